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
    /// <param name="inheritedSocket">A connector socket handed over by the previous instance, or -1 to open one.</param>
    public EventListener(EventRing ring, Counters counters, int receiveBufferBytes, Action requestResync, int inheritedSocket = -1)
    {
        _ring = ring;
        _counters = counters;
        _socket = inheritedSocket >= 0
            ? ProcConnectorSocket.Adopt(inheritedSocket, ReceiveTimeoutMs)
            : ProcConnectorSocket.Open(receiveBufferBytes, ReceiveTimeoutMs);
        _overflow = new OverflowTracker(counters, _socket.UsesEventFilter, requestResync);
        _thread = new Thread(Run) { Name = "kmonitor-listener", IsBackground = true };
    }

    public bool UsesEventFilter => _socket.UsesEventFilter;

    /// <summary>The connector socket, for systemd's fd store.</summary>
    public Interop.FileDescriptorHandle SocketHandle => _socket.Handle;

    public int ReceiveBufferBytes => _socket.ReceiveBufferBytes;

    public void Start() => _thread.Start();

    /// <summary>
    /// For a takeover, before <see cref="Start"/>: moves what the socket holds now (the events queued
    /// while no daemon ran) into the ring, on the calling thread, so that what is posted to the ring
    /// next comes after them. Stops at the first empty receive, or after <paramref name="limit"/>.
    /// </summary>
    public int DrainQueued(TimeSpan limit)
    {
        var buffer = GC.AllocateArray<byte>(64 * 1024, pinned: true);
        var sink = new RingSink(this);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int datagrams = 0;
        while (clock.Elapsed < limit)
        {
            int n = _socket.Receive(buffer, dontWait: true);
            if (n > 0)
            {
                ProcConnectorMessage.Parse(buffer.AsSpan(0, n), ref sink);
                datagrams++;
            }
            else if (n == -Errno.ENOBUFS)
                _overflow.NoBuffers();
            else
                break;
        }
        _overflow.Tick();
        return datagrams;
    }

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

    /// <summary>
    /// For a handover: stops receiving after the current datagram, leaving the rest queued in the
    /// socket, and returns the socket (still subscribed) for the next instance.
    /// </summary>
    public FileDescriptorHandle StopForHandover()
    {
        _stopping = true;
        if (_thread.IsAlive)
            _thread.Join();
        _ring.Complete();
        return _socket.Handle;
    }

    /// <summary>
    /// True once the socket holds nothing more (the events an adopted socket had queued are in the ring).
    /// </summary>
    public bool SocketDrained => Exits.PidfdPoll.Readable(_socket.Handle) == 0;

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
