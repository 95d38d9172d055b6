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

    /// <param name="inheritedNetlink">The previous instance's connector socket (a takeover), or -1.</param>
    public KmonitorEngine(int bufferLength, int receiveBufferBytes, ServiceOptions? options = null, int inheritedNetlink = -1)
    {
        Service = new KmonitorService(options, bufferLength);
        _listener = new EventListener(Service.Ring, Service.Counters, receiveBufferBytes, Service.Dispatcher.RequestResync,
            Service.Dispatcher.TryDispatchInline, inheritedNetlink);
    }

    /// <summary>Whether the netlink socket holds no more events (those queued before a takeover are in the ring).</summary>
    public bool NetlinkDrained => _listener.SocketDrained;

    /// <summary>Whether the dispatcher has handled everything in the ring.</summary>
    public bool RingEmpty => Service.Ring.Count == 0;

    /// <summary>
    /// For a handover: stops taking events (the rest stay queued in the socket), lets the dispatcher
    /// finish every event already taken, and returns the still-subscribed socket. Nothing changes the
    /// service's state after this returns but the request threads, which the front end has stopped.
    /// </summary>
    public Interop.FileDescriptorHandle StopForHandover()
    {
        Service.FinishScans(); // while the dispatcher runs: a SUBSCRIBE's scan ends in a marker it handles
        var socket = _listener.StopForHandover();
        Service.Dispatcher.Dispose(); // returns once the ring is drained
        return socket;
    }

    public bool UsesEventFilter => _listener.UsesEventFilter;

    /// <summary>The connector socket, for systemd's fd store (the engine keeps owning it).</summary>
    public Interop.FileDescriptorHandle NetlinkSocket => _listener.SocketHandle;

    /// <summary>For a watchdog: whether the dispatcher is still turning.</summary>
    public bool IsDispatching(TimeSpan within) => Service.Dispatcher.IsTurning(within);
    public int ReceiveBufferBytes => _listener.ReceiveBufferBytes;

    /// <param name="afterBacklog">For a takeover: run once the events the inherited socket held are in
    /// the ring, before any new one is received (what it posts comes after the backlog).</param>
    public void Start(Action<int>? afterBacklog = null)
    {
        Service.Dispatcher.Start();
        Service.Watcher.Start();
        if (afterBacklog is not null)
            afterBacklog(_listener.DrainQueued(TimeSpan.FromSeconds(2)));
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        Service.Dispose();
    }
}
