using Kmonitor.Dispatch;
using Kmonitor.Events;

namespace Kmonitor;

/// <summary>
/// The running engine: the netlink listener, the ring, the dispatcher and the service they feed.
/// Front ends talk to <see cref="Service"/>.
/// </summary>
public sealed class KmonitorEngine : IDisposable
{
    private readonly EventListener _listener;
    private readonly Dispatcher _dispatcher;

    public KmonitorService Service { get; }
    public EventRing Ring { get; }

    public KmonitorEngine(int bufferLength, int receiveBufferBytes, ServiceOptions? options = null)
    {
        Service = new KmonitorService(options);
        Ring = new EventRing(bufferLength);
        _listener = new EventListener(Ring, Service.Counters, receiveBufferBytes, Service.RequestResync);
        _dispatcher = new Dispatcher(Ring, Service);
        Service.Watcher.ProcessGone += PostProcessGone;
        Service.Watcher.MonitorGone += Service.DropMonitor;
    }

    /// <summary>
    /// Queues the watcher's report behind the events already in the ring (a marker in the ring, the
    /// process itself beside it), retrying while the ring is full.
    /// </summary>
    private void PostProcessGone(Exits.WatchedProcess process, long seenAtNs)
    {
        Service.EnqueueGone(process);
        var ev = ProcEvent.ProcessGone(process.Tgid, seenAtNs);
        while (!Ring.TryWrite(ev))
            Thread.Sleep(1);
    }

    public bool UsesEventFilter => _listener.UsesEventFilter;

    /// <summary>For a watchdog: whether the dispatcher is still turning.</summary>
    public bool IsDispatching(TimeSpan within) => _dispatcher.IsTurning(within);
    public int ReceiveBufferBytes => _listener.ReceiveBufferBytes;

    public void Start()
    {
        _dispatcher.Start();
        Service.Watcher.Start();
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        Service.Watcher.Dispose();
        _dispatcher.Dispose();
        Service.Dispose();
    }
}
