using Kmonitor.Diagnostics;
using Kmonitor.Interop;

namespace Kmonitor.Events;

/// <summary>Handles a prefix of a batch on the listener's thread and returns its length; the listener queues the rest.</summary>
public delegate int InlineDispatch(ReadOnlySpan<ProcEvent> batch);

/// <summary>
/// The listener thread: receives the process connector's datagrams, a burst per wake-up, and hands
/// each burst's events on: as many as <see cref="InlineDispatch"/> takes are handled on this thread
/// (one wake-up per notification, as a raw listener has), the rest go into the ring, in order. The
/// dispatch it is given never waits for another thread and stops at anything slow, so the socket
/// keeps being drained.
/// </summary>
public sealed class EventListener : IDisposable
{
    private const int ReceiveTimeoutMs = 200;

    /// <summary>Datagrams per recvmmsg: a burst this long is taken in one system call.</summary>
    public const int BatchDatagrams = 64;

    private readonly ProcConnectorSocket _socket;
    private readonly EventRing _ring;
    private readonly InlineDispatch? _inline;
    private readonly Counters _counters;
    private readonly Thread _thread;
    private readonly OverflowTracker _overflow;
    private readonly ProcEvent[] _events = new ProcEvent[BatchDatagrams];
    private int _eventCount;
    private volatile bool _stopping;

    /// <param name="inline">Handles a batch's first events on this thread; null: every event goes into the ring.</param>
    /// <param name="requestResync">Called (on the listener's thread) when an overflow episode ends.</param>
    /// <param name="inheritedSocket">A connector socket handed over by the previous instance, or -1 to open one.</param>
    public EventListener(EventRing ring, Counters counters, int receiveBufferBytes, Action requestResync, InlineDispatch? inline = null,
        int inheritedSocket = -1)
    {
        _ring = ring;
        _inline = inline;
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
    /// For a takeover, before <see cref="Start"/>: hands on what the socket holds now (the events
    /// queued while no daemon ran), on the calling thread and in the usual way (dispatched here when
    /// nothing waits in the ring, else queued in it), so that whatever is posted to the ring next
    /// comes after them. Stops at the first empty receive, or after <paramref name="limit"/>.
    /// </summary>
    public int DrainQueued(TimeSpan limit)
    {
        var datagrams = new DatagramBatch(BatchDatagrams);
        var sink = new BatchSink(this);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int received = 0;
        while (clock.Elapsed < limit)
        {
            int n = _socket.Receive(datagrams, dontWait: true);
            if (n > 0)
            {
                HandOn(datagrams, n, ref sink);
                received += n;
            }
            else if (n == -Errno.ENOBUFS)
                _overflow.NoBuffers();
            else
                break;
        }
        _overflow.Tick();
        return received;
    }

    private void Run()
    {
        var datagrams = new DatagramBatch(BatchDatagrams);
        var sink = new BatchSink(this);
        while (!_stopping)
        {
            int n = _socket.Receive(datagrams);
            if (n > 0)
            {
                HandOn(datagrams, n, ref sink);
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

    private void HandOn(DatagramBatch datagrams, int count, ref BatchSink sink)
    {
        _eventCount = 0;
        for (int i = 0; i < count; i++)
            ProcConnectorMessage.Parse(datagrams[i], ref sink);
        HandOn(_events.AsSpan(0, _eventCount));
    }

    private void HandOn(ReadOnlySpan<ProcEvent> batch)
    {
        int handled = _inline is null ? 0 : _inline(batch);
        int refused = _ring.WriteBatch(batch[handled..]);
        for (int i = 0; i < refused; i++)
            _overflow.RingFull(); // logged once per episode, by Tick
    }

    private void OnEvent(in ProcEvent ev)
    {
        Interlocked.Increment(ref _counters.EventsReceived);
        _overflow.Observe(ev);
        if (_eventCount == _events.Length)
        {
            // More than one event in a datagram (the connector sends one, but nothing here relies on it).
            HandOn(_events);
            _eventCount = 0;
        }
        _events[_eventCount++] = ev;
    }

    private readonly struct BatchSink(EventListener owner) : IProcEventSink
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
