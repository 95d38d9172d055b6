using Kmonitor.Interop;

namespace Kmonitor.Exits;

/// <summary>
/// One registered target process, held by a pidfd. The pidfd polls readable only once every thread
/// of the process has exited, which is what PROCESS_EXIT means: the connector's EXIT of the
/// thread-group leader also comes when main() calls pthread_exit while other threads run on.
/// </summary>
public sealed class WatchedProcess(int tgid, FileDescriptorHandle pidfd, ulong id)
{
    public int Tgid { get; } = tgid;
    public FileDescriptorHandle Pidfd { get; } = pidfd;

    /// <summary>Identifies it in epoll's data, since a pid can come back as another process.</summary>
    public ulong Id { get; } = id;

    /// <summary>Registrations holding it; guarded by the watcher's lock.</summary>
    internal int References;

    private int _liveTasks;

    /// <summary>Events stamped before this (CLOCK_MONOTONIC ns) were already counted in the /proc reading.</summary>
    public long CountedSinceNs { get; internal set; }

    /// <summary>
    /// Threads (the leader included) not yet reported exited: read from /proc at REGISTER, then +1 per
    /// THREAD_CREATE and -1 per EXIT event stamped after the reading. The pidfd says the group is
    /// gone; this says that every EXIT event of it has been handled, since events from different
    /// CPUs can be handled in another order than they happened.
    /// </summary>
    public int LiveTasks => Volatile.Read(ref _liveTasks);

    internal void InitializeLiveTasks(int count, long countedSinceNs)
    {
        CountedSinceNs = countedSinceNs;
        Volatile.Write(ref _liveTasks, count);
    }

    /// <summary>Counts a thread created (+1) or a task exited (-1), if the event is newer than the reading.</summary>
    public void CountTask(int delta, ulong timestampNs)
    {
        if ((long)timestampNs >= CountedSinceNs)
            Interlocked.Add(ref _liveTasks, delta);
    }

    /// <summary>The process has ended and every exit of it has been seen: time to report PROCESS_EXIT.</summary>
    public bool IsComplete => LiveTasks <= 0 && HasExited;

    /// <summary>True once the whole thread group has exited.</summary>
    public bool HasExited => PidfdPoll.Readable(Pidfd) > 0;

    public override string ToString() => $"process {Tgid}";
}
