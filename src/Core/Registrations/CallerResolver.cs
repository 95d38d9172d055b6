using Kmonitor.Procfs;

namespace Kmonitor.Registrations;

/// <summary>The calling process as REGISTER needs it.</summary>
/// <param name="Tgid">Its process, in the daemon's pid namespace: the monitor.</param>
/// <param name="RealUid">Its real uid: what the per-uid limit counts.</param>
/// <param name="NamespaceDepth">How deep its pid namespace is below the daemon's.</param>
/// <param name="PidNamespace">That namespace, when the depth is not 0.</param>
public readonly record struct Caller(int Tgid, uint RealUid, int NamespaceDepth, ulong PidNamespace);

/// <summary>
/// Who is calling: the thread in the request header, read from /proc, with the pids it names
/// translated from its pid namespace to the daemon's. Remembers the threads that registered
/// through a file before (<see cref="KnownCaller"/>), so their next REGISTER reads less.
/// </summary>
public sealed class CallerResolver(IProcReader proc)
{
    /// <summary>
    /// The caller as remembered, when that memory still holds: the same filesystem uid, its monitor
    /// alive, and the thread still in that process (so the tid was not reused). A remembered monitor
    /// is always the file's current one: dropping a monitor or closing the file forgets its callers.
    /// </summary>
    internal KnownCaller? FindKnown(DeviceFile file, int callerTid, uint fsUid)
    {
        KnownCaller? known;
        lock (file.Gate)
        {
            if (!file.Callers.TryGetValue(callerTid, out known))
                return null;
            if (known.FsUid != fsUid)
            {
                file.Callers.Remove(callerTid);
                return null;
            }
        }
        return known.Monitor.IsAlive && proc.IsThreadOf(known.Monitor.Tgid, callerTid) ? known : null;
    }

    /// <summary>Remembers a caller in the daemon's pid namespace after a REGISTER it made.</summary>
    internal void Remember(DeviceFile file, int callerTid, in Caller caller, uint fsUid)
    {
        lock (file.Gate)
        {
            if (file.Closed || !file.Monitors.TryGetValue(caller.Tgid, out var monitor))
                return;
            if (file.Callers.Count >= KnownCaller.MaxPerFile)
                file.Callers.Clear();
            file.Callers[callerTid] = new KnownCaller(monitor, caller.RealUid, fsUid);
        }
    }

    /// <summary>The calling thread's /proc status; false when it is gone.</summary>
    public bool TryRead(int callerTid, out ProcTaskStatus status) => proc.TryReadStatus(callerTid, out status);

    /// <summary>
    /// Whether the caller lives in another pid namespace than the daemon: then the pids it names
    /// need <see cref="ToDaemonPid"/>. A readlink decides for most callers; only one in another
    /// namespace has its status read.
    /// </summary>
    public bool IsInOtherPidNamespace(int callerTid, out ProcTaskStatus status, out ulong pidNamespace)
    {
        status = default;
        pidNamespace = 0;
        if (proc.PidNamespace(callerTid) is not ulong ns || ns == proc.OwnPidNamespace)
            return false;
        pidNamespace = ns;
        return proc.TryReadStatus(callerTid, out status) && status.NamespaceDepth > 0;
    }

    /// <summary>The caller's pid namespace (for one whose status shows a depth); null when it is gone.</summary>
    public ulong? PidNamespace(int callerTid) => proc.PidNamespace(callerTid);

    /// <summary>
    /// The daemon's pid for what a caller in pid namespace <paramref name="pidNamespace"/> (at
    /// <paramref name="depth"/>) calls <paramref name="localPid"/>. Slow: run it on the
    /// <see cref="ScanWorker"/>, never on the FUSE request thread.
    /// </summary>
    public int? ToDaemonPid(ulong pidNamespace, int depth, int localPid) => proc.FindByLocalPid(pidNamespace, depth, localPid);

    /// <summary>Whether a thread lives in the daemon's user namespace (where its capabilities count).</summary>
    public bool IsInDaemonUserNamespace(int tid) => proc.UserNamespace(tid) == proc.OwnUserNamespace;
}
