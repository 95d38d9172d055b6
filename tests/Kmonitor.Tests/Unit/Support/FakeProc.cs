using System.Collections.Concurrent;
using Kmonitor.Events;
using Kmonitor.Procfs;

namespace Kmonitor.Tests.Unit.Support;

/// <summary>
/// Tasks made up for a test, over the real /proc: a task the test describes is what it says (alive,
/// gone, its uids, its namespaces, its exit code); any other is read from the real /proc, so real
/// processes (which real pidfds are opened for) stay what they are. A scan of /proc
/// (<see cref="ListProcesses"/>) sees only the processes a test describes, so what a subscription
/// finds is the test's world, not the machine's.
/// </summary>
public sealed class FakeProc : IProcReader
{
    private readonly ConcurrentDictionary<int, ProcTaskStatus> _statuses = new();
    private readonly ConcurrentDictionary<int, bool> _gone = new();
    private readonly ConcurrentDictionary<int, int> _exitCodes = new();
    private readonly ConcurrentDictionary<int, ulong> _pidNamespaces = new();
    private readonly ConcurrentDictionary<int, ulong> _userNamespaces = new();
    private readonly ConcurrentDictionary<(ulong Namespace, int LocalPid), int> _localPids = new();
    private readonly ConcurrentDictionary<int, string> _commandLines = new();
    private int _scans;

    /// <summary>A task with this status (a thread when <paramref name="tgid"/> is not <paramref name="tid"/>).</summary>
    public void Task(int tid, int tgid, uint uid, char state = 'S', int threads = 1, uint? euid = null, ulong caps = 0, int depth = 0, int ppid = 0)
    {
        _gone.TryRemove(tid, out _);
        _statuses[tid] = new ProcTaskStatus(tgid, uid, state, threads, euid ?? uid, caps, depth, tid, ppid);
    }

    /// <summary>A running process with a name (and a command line, which reads "" unless given).</summary>
    public void Process(int pid, int ppid, string comm, uint uid = 0, string? commandLine = null)
    {
        Task(pid, pid, uid, ppid: ppid);
        _names[pid] = comm;
        _commandLines[pid] = commandLine ?? "";
    }

    /// <summary>The process has exited and waits to be reaped: its name stays, its command line reads "".</summary>
    public void Zombie(int pid)
    {
        var status = _statuses[pid];
        _statuses[pid] = status with { State = 'Z' };
        _commandLines[pid] = "";
    }

    /// <summary>The process now runs another program (what an exec leaves in /proc).</summary>
    public void Exec(int pid, string comm, string? commandLine = null)
    {
        _names[pid] = comm;
        _commandLines[pid] = commandLine ?? "";
    }

    /// <summary>The process renamed itself (prctl PR_SET_NAME): /proc/PID/comm changes, the command line does not.</summary>
    public void Rename(int pid, string comm) => _names[pid] = comm;

    /// <summary>The parent the process has now (re-parented to a subreaper or init).</summary>
    public void Reparent(int pid, int ppid) => _statuses[pid] = _statuses[pid] with { ParentPid = ppid };

    /// <summary>Its real uid is now <paramref name="uid"/> (setuid).</summary>
    public void SetUid(int pid, uint uid) => _statuses[pid] = _statuses[pid] with { RealUid = uid, EffectiveUid = uid };

    /// <summary>No task with this pid, whatever the real /proc says.</summary>
    public void Gone(int tid)
    {
        _statuses.TryRemove(tid, out _);
        _names.TryRemove(tid, out _);
        _commandLines.TryRemove(tid, out _);
        _gone[tid] = true;
    }

    public void ExitCodeOf(int pid, int waitStatus) => _exitCodes[pid] = waitStatus;

    private readonly ConcurrentDictionary<int, string> _names = new();

    /// <summary>The name /proc/TID/comm gives for a made-up task.</summary>
    public void NameOf(int tid, string comm) => _names[tid] = comm;

    /// <summary>Puts a task in another pid namespace, where <paramref name="localPid"/> names <paramref name="daemonPid"/>.</summary>
    public void PidNamespaceOf(int tid, ulong pidNamespace) => _pidNamespaces[tid] = pidNamespace;

    public void UserNamespaceOf(int tid, ulong userNamespace) => _userNamespaces[tid] = userNamespace;

    public void LocalPid(ulong pidNamespace, int localPid, int daemonPid) => _localPids[(pidNamespace, localPid)] = daemonPid;

    /// <summary>When set, a scan (FindByLocalPid) waits for it: a test holds a scan to see who waits.</summary>
    public ManualResetEventSlim? ScanGate { get; set; }

    /// <summary>The threads that ran a scan.</summary>
    public ConcurrentBag<int> ScanThreads { get; } = [];

    public int Scans => Volatile.Read(ref _scans);

    public bool TryReadStatus(int tid, out ProcTaskStatus status)
    {
        if (_statuses.TryGetValue(tid, out status))
            return true;
        if (_gone.ContainsKey(tid))
            return false;
        return ProcReader.Instance.TryReadStatus(tid, out status);
    }

    public int? ExitCode(int pid) => _exitCodes.TryGetValue(pid, out int code) ? code : _gone.ContainsKey(pid) ? null : ProcReader.Instance.ExitCode(pid);

    public bool IsThreadOf(int tgid, int tid) =>
        _statuses.TryGetValue(tid, out var status) ? status.Tgid == tgid : !_gone.ContainsKey(tid) && ProcReader.Instance.IsThreadOf(tgid, tid);

    public ulong OwnPidNamespace => ProcReader.Instance.OwnPidNamespace;

    public ulong OwnUserNamespace => ProcReader.Instance.OwnUserNamespace;

    public ulong? PidNamespace(int tid) =>
        _pidNamespaces.TryGetValue(tid, out ulong ns) ? ns : _gone.ContainsKey(tid) ? null : _statuses.ContainsKey(tid) ? OwnPidNamespace : ProcReader.Instance.PidNamespace(tid);

    public ulong? UserNamespace(int tid) =>
        _userNamespaces.TryGetValue(tid, out ulong ns) ? ns : _gone.ContainsKey(tid) ? null : _statuses.ContainsKey(tid) ? OwnUserNamespace : ProcReader.Instance.UserNamespace(tid);

    public int? PidSeenFrom(int tid, ulong pidNamespace, int depth)
    {
        foreach (var ((ns, local), daemonPid) in _localPids)
        {
            if (ns == pidNamespace && daemonPid == tid)
                return local;
        }
        return null;
    }

    public int? FindByLocalPid(ulong pidNamespace, int depth, int localPid)
    {
        ScanThreads.Add(Environment.CurrentManagedThreadId);
        Interlocked.Increment(ref _scans);
        ScanGate?.Wait(TimeSpan.FromSeconds(30));
        return _localPids.TryGetValue((pidNamespace, localPid), out int pid) ? pid : null;
    }

    /// <summary>The processes the test describes (thread-group leaders), in ascending order.</summary>
    public void ListProcesses(List<int> pids) =>
        pids.AddRange(_statuses.Where(t => t.Key == t.Value.Tgid).Select(t => t.Key).Order());

    /// <summary>How many times a name was read: what a test counts to show an event reads /proc only when it must.</summary>
    public int CommReads => Volatile.Read(ref _commReads);

    public int CommandLineReads => Volatile.Read(ref _commandLineReads);

    private int _commReads, _commandLineReads;

    public string? ReadComm(int pid)
    {
        Interlocked.Increment(ref _commReads);
        return _names.TryGetValue(pid, out var comm) ? comm : IsMadeUp(pid) ? null : ProcReader.Instance.ReadComm(pid);
    }

    public string CommOf(in ProcEvent comm)
    {
        Span<byte> name = stackalloc byte[ProcEvent.TASK_COMM_LEN];
        return System.Text.Encoding.UTF8.GetString(name[..comm.CopyComm(name)]);
    }

    public string? ReadCommandLine(int pid)
    {
        Interlocked.Increment(ref _commandLineReads);
        return _commandLines.TryGetValue(pid, out var line) ? line : IsMadeUp(pid) ? null : ProcReader.Instance.ReadCommandLine(pid);
    }

    /// <summary>Described by the test (alive or gone): the real /proc is not asked about it.</summary>
    private bool IsMadeUp(int pid) => _gone.ContainsKey(pid) || _statuses.ContainsKey(pid);
}
