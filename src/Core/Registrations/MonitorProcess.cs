using Kmonitor.Interop;

namespace Kmonitor.Registrations;

/// <summary>
/// A process that registered through one open file: the receiver of its notifications. It is held
/// by a pidfd opened at REGISTER, so a signal can never reach a later process that reuses its pid.
/// </summary>
public sealed class MonitorProcess : IDisposable
{
    public int Tgid { get; }
    public DeviceFile File { get; }
    public FileDescriptorHandle Pidfd { get; }

    /// <summary>Its entry in the pidfd watcher, or 0 when not watched.</summary>
    internal ulong WatchId;

    /// <summary>Set, under its file's lock, once it has been dropped: it can never become the file's monitor again.</summary>
    internal bool Dropped;

    private long _queueFullDrops;

    /// <summary>Notifications dropped because its queue of pending signals was full (EAGAIN).</summary>
    public long QueueFullDrops => Interlocked.Read(ref _queueFullDrops);

    internal long CountQueueFull() => Interlocked.Increment(ref _queueFullDrops);

    /// <summary>How deep its pid namespace is below the daemon's: 0 when they share one.</summary>
    public int PidNamespaceDepth { get; }

    /// <summary>Its pid namespace (the inode of /proc/PID/ns/pid), when it is not the daemon's.</summary>
    public ulong PidNamespace { get; }

    private MonitorProcess(int tgid, DeviceFile file, FileDescriptorHandle pidfd, int depth, ulong pidNamespace)
    {
        Tgid = tgid;
        File = file;
        Pidfd = pidfd;
        PidNamespaceDepth = depth;
        PidNamespace = pidNamespace;
    }

    /// <summary>Opens a pidfd for the process; returns the errno (ESRCH when it is gone) on failure.</summary>
    /// <param name="pidNamespace">Its pid namespace, when <paramref name="pidNamespaceDepth"/> is not 0.</param>
    public static int TryOpen(int tgid, DeviceFile file, int pidNamespaceDepth, ulong pidNamespace, out MonitorProcess? monitor)
    {
        monitor = null;
        var pidfd = Interop.Pidfd.pidfd_open(tgid, 0);
        if (pidfd.IsInvalid)
        {
            int errno = Errno.Last;
            pidfd.Dispose(); // only suppresses its finalizer: there is no descriptor to close
            return errno;
        }
        monitor = new MonitorProcess(tgid, file, pidfd, pidNamespaceDepth, pidNamespaceDepth > 0 ? pidNamespace : 0);
        return 0;
    }

    /// <summary>False once the process has exited (its pidfd polls readable).</summary>
    public bool IsAlive => Exits.PidfdPoll.Readable(Pidfd) == 0;

    public void Dispose() => Pidfd.Dispose();

    public override string ToString() => $"monitor {Tgid}";
}
