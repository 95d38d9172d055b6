using Kmonitor.Diagnostics;
using static Tmds.Linux.LibC;

namespace Kmonitor.Daemon.Handover;

/// <summary>
/// The state kept current in systemd's store, so that a daemon killed without warning (SIGKILL, the
/// watchdog, the OOM killer) is taken over by its successor as after a planned stop: the channel and
/// the netlink socket are stored once, when the device is ready, and the state memfd is rewritten in
/// place before every answer that changes what a monitor relies on (open, REGISTER and the other
/// ioctls, release, a read that blocks). Systemd restarts a killed service with its store
/// (Restart=on-failure). A write cut short by the kill leaves the previous state current (see StateMemfd).
/// </summary>
public sealed class StateJournal : IDisposable
{
    private readonly int _fd;
    private readonly Func<HandoverState> _capture;
    private readonly object _gate = new();

    private StateJournal(int fd, Func<HandoverState> capture)
    {
        _fd = fd;
        _capture = capture;
    }

    /// <summary>
    /// Stores the descriptors and a first state. A takeover's channel and socket are in the store
    /// already (systemd keeps them across restarts), so only the state is stored then.
    /// </summary>
    public static StateJournal? Start(FdStore store, bool takenOver, int channelFd, int netlinkFd, Func<HandoverState> capture)
    {
        var journal = new StateJournal(StateMemfd.Create(StateFormat.Write(capture())), capture);
        store.Remove(Takeover.StateName);
        if ((!takenOver && (store.Store(Takeover.ChannelName, channelFd) != 0 || store.Store(Takeover.NetlinkName, netlinkFd) != 0))
            || store.Store(Takeover.StateName, journal._fd) != 0)
        {
            Log.Warning("the fd store refused the device's descriptors: a crash will end the device");
            journal.Dispose();
            return null;
        }
        return journal;
    }

    /// <summary>
    /// Rewrites the state; called before the answer goes out. Captured under the lock, so two
    /// answers on different threads cannot leave the older state written last.
    /// </summary>
    public void Update()
    {
        lock (_gate)
            Write(_capture());
    }

    /// <summary>Rewrites the state with <paramref name="state"/> (the final one, at a planned stop).</summary>
    public void Write(HandoverState state)
    {
        var bytes = StateFormat.Write(state);
        lock (_gate)
        {
            if (StateMemfd.Replace(_fd, bytes) is int error and not 0)
                Log.Warning($"writing the state: {Interop.Errno.Describe(error)}; the successor would take the previous one");
        }
    }

    public void Dispose() => close(_fd);
}
