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
    private readonly RateLimiter _ringFullLog = new(TimeSpan.FromSeconds(5));
    private volatile bool _stopping;

    public EventListener(EventRing ring, Counters counters, int receiveBufferBytes)
    {
        _ring = ring;
        _counters = counters;
        _socket = ProcConnectorSocket.Open(receiveBufferBytes, ReceiveTimeoutMs);
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
                long total = Interlocked.Increment(ref _counters.DroppedNoBuffers);
                Log.Warning($"netlink receive buffer overflowed: the kernel dropped process events (overflow #{total})");
            }
            else if (n < 0)
            {
                Log.Error($"netlink receive failed: {Errno.Describe(-n)}; listener stops");
                break;
            }
        }
        _ring.Complete();
    }

    private void OnEvent(in ProcEvent ev)
    {
        Interlocked.Increment(ref _counters.EventsReceived);
        if (!_ring.TryWrite(ev))
        {
            long total = Interlocked.Increment(ref _counters.DroppedRingFull);
            if (_ringFullLog.TryAcquire())
                Log.Warning($"event ring full ({_ring.Capacity} events, see --buffer-length): {total} events dropped so far");
        }
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
