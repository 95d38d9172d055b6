using Kmonitor.Events;

namespace Kmonitor.Procfs;

/// <summary>
/// What the engine reads about other tasks: their /proc status and exit code, and their
/// namespaces. The engine's logic reads the running system through this alone, so REGISTER,
/// exits, resyncs and monitor deaths can be tested with tasks that are made up (see
/// <see cref="ProcReader"/> for the real one).
/// </summary>
public interface IProcReader
{
    /// <summary>/proc/TID/status; false when no such task exists.</summary>
    bool TryReadStatus(int tid, out ProcTaskStatus status);

    /// <summary>The raw wait status of an exited task, or null when it is not known.</summary>
    int? ExitCode(int pid);

    /// <summary>/proc/TID/comm without its newline: the task's name; null when it is gone.</summary>
    string? ReadComm(int tid);

    /// <summary>
    /// The new name a PROC_EVENT_COMM carries (<see cref="ProcEvent.CopyComm"/>), as the string
    /// <see cref="ReadComm"/> would give for it. Not read from /proc: a task that renames itself and
    /// exits may be reaped before its COMM is handled.
    /// </summary>
    string CommOf(in ProcEvent comm);

    /// <summary>Whether thread <paramref name="tid"/> belongs to process <paramref name="tgid"/> now.</summary>
    bool IsThreadOf(int tgid, int tid);

    /// <summary>The daemon's own pid namespace.</summary>
    ulong OwnPidNamespace { get; }

    /// <summary>The daemon's own user namespace.</summary>
    ulong OwnUserNamespace { get; }

    /// <summary>A task's pid namespace, or null when it is gone.</summary>
    ulong? PidNamespace(int tid);

    /// <summary>A task's user namespace, or null when it is gone.</summary>
    ulong? UserNamespace(int tid);

    /// <summary>
    /// The pid a task has as seen from pid namespace <paramref name="pidNamespace"/> (at
    /// <paramref name="depth"/> below ours); null when it cannot be seen from there.
    /// </summary>
    int? PidSeenFrom(int tid, ulong pidNamespace, int depth);

    /// <summary>
    /// The task that a process in pid namespace <paramref name="pidNamespace"/> (at
    /// <paramref name="depth"/> below ours) calls <paramref name="localPid"/>. Slow: it may read all
    /// of /proc, so it never runs on the FUSE request thread.
    /// </summary>
    int? FindByLocalPid(ulong pidNamespace, int depth, int localPid);

    /// <summary>Adds every process /proc lists now (thread-group leaders, zombies included) to <paramref name="pids"/>.</summary>
    void ListProcesses(List<int> pids);

    /// <summary>/proc/PID/cmdline, argv joined by single spaces; "" for a zombie; null when the process is gone.</summary>
    string? ReadCommandLine(int pid);
}

/// <summary>The running system's /proc.</summary>
public sealed class ProcReader : IProcReader
{
    public static ProcReader Instance { get; } = new();

    private ProcReader() { }

    public bool TryReadStatus(int tid, out ProcTaskStatus status) => ProcTaskStatus.TryRead(tid, out status);

    public int? ExitCode(int pid) => TaskExitCode.TryRead(pid);

    /// <summary>The names read, kept so that a name seen before costs no allocation (see <see cref="CommNames"/>).</summary>
    private readonly CommNames _names = new();

    public string? ReadComm(int tid) => _names.Read(tid);

    public string CommOf(in ProcEvent comm)
    {
        Span<byte> name = stackalloc byte[ProcEvent.TASK_COMM_LEN];
        return _names.Intern(name[..comm.CopyComm(name)]);
    }

    public bool IsThreadOf(int tgid, int tid) => ProcFile.IsThreadOf(tgid, tid);

    public ulong OwnPidNamespace => Security.Namespaces.OwnPidNamespace;

    public ulong OwnUserNamespace => Security.Namespaces.OwnUserNamespace;

    public ulong? PidNamespace(int tid) => Security.Namespaces.Inode(tid, "pid");

    public ulong? UserNamespace(int tid) => Security.Namespaces.Inode(tid, "user");

    public int? PidSeenFrom(int tid, ulong pidNamespace, int depth) =>
        ProcTaskStatus.PidAtDepth(tid, depth) is int local && Security.Namespaces.IsVisibleIn(tid, pidNamespace, depth) ? local : null;

    public int? FindByLocalPid(ulong pidNamespace, int depth, int localPid) =>
        Security.Namespaces.FindByLocalPid(pidNamespace, depth, localPid);

    public void ListProcesses(List<int> pids) => ProcessList.Read(pids);

    public string? ReadCommandLine(int pid) => ProcessCommandLine.Read(pid);
}
