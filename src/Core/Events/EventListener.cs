using Kmonitor.Diagnostics;
using Kmonitor.Interop;

namespace Kmonitor.Events;

/// <summary>
/// The listener thread: receives datagrams from the process connector and moves their events into
/// the ring. It does nothing else, so the socket is drained as fast as the kernel fills it.
/// </summary>
public sealed class EventListener : IDisposable
{
    private const int ReceiveTimeoutMs = 200;
    private readonly ProcConnectorSocket _socket;
    private readonly EventRing _ring;
    private readonly Counters _counters;
    private readonly Thread _thread;
    private readonly OverflowTracker _overflow;
    private volatile bool _stopping;

    /// <param name="requestResync">Called (on the listener's thread) when an overflow episode ends.</param>
    public EventListener(EventRing ring, Counters counters, int receiveBufferBytes, Action requestResync)
    {
        _ring = ring;
        _counters = counters;
        _socket = ProcConnectorSocket.Open(receiveBufferBytes, ReceiveTimeoutMs);
        _overflow = new OverflowTracker(counters, _socket.UsesEventFilter, requestResync);
        _thread = new Thread(Run) { Name = "kmonitor-listener", IsBackground = true };
    }

    public bool UsesEventFilter => _socket.UsesEventFilter;

    public int ReceiveBufferBytes => _socket.ReceiveBufferBytes;

    public void Start() => _thread.Start();

    private void Run()
    {
        var buffer = GC.AllocateArray<byte>(64 * 1024, pinned: true);
        var sink = new RingSink(this);
        while (!_stopping)
        {
            int n = _socket.Receive(buffer);
            if (n > 0)
            {
                ProcConnectorMessage.Parse(buffer.AsSpan(0, n), ref sink);
            }
            else if (n == -Errno.ENOBUFS)
            {
                _overflow.NoBuffers(); // logged once per episode, by Tick
            }
            else if (n < 0)
            {
                Log.Error($"netlink receive failed: {Errno.Describe(-n)}; listener stops");
                break;
            }
            _overflow.Tick();
        }
        _ring.Complete();
    }

    private void OnEvent(in ProcEvent ev)
    {
        Interlocked.Increment(ref _counters.EventsReceived);
        _overflow.Observe(ev);
        if (!_ring.TryWrite(ev))
            _overflow.RingFull(); // logged once per episode, by Tick
    }

    private readonly struct RingSink(EventListener owner) : IProcEventSink
    {
        public void Accept(in ProcEvent ev) => owner.OnEvent(ev);
    }

    /// <summary>Stops the thread and closes the socket (which is how the subscription ends).</summary>
    public void Dispose()
    {
        _stopping = true;
        if (_thread.IsAlive)
            _thread.Join();
        _socket.Dispose();
        _ring.Complete();
    }
}
