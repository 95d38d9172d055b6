using Kmonitor.Events;

namespace Kmonitor;

/// <summary>
/// The running engine: the netlink listener feeding the service's ring, and the threads that
/// serve it (the dispatcher, the pidfd watcher). Front ends talk to <see cref="Service"/>.
/// </summary>
public sealed class KmonitorEngine : IDisposable
{
    private readonly EventListener _listener;

    public KmonitorService Service { get; }

    public KmonitorEngine(int bufferLength, int receiveBufferBytes, ServiceOptions? options = null)
    {
        Service = new KmonitorService(options, bufferLength);
        _listener = new EventListener(Service.Ring, Service.Counters, receiveBufferBytes, Service.Dispatcher.RequestResync,
            Service.Dispatcher.TryDispatchInline);
    }

    public bool UsesEventFilter => _listener.UsesEventFilter;

    /// <summary>For a watchdog: whether the dispatcher is still turning.</summary>
    public bool IsDispatching(TimeSpan within) => Service.Dispatcher.IsTurning(within);
    public int ReceiveBufferBytes => _listener.ReceiveBufferBytes;

    public void Start()
    {
        Service.Dispatcher.Start();
        Service.Watcher.Start();
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        Service.Dispose();
    }
}
