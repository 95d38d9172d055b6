using Kmonitor.Procfs;

namespace Kmonitor.Subscriptions;

/// <summary>One process as a /proc scan found it, and when (CLOCK_MONOTONIC ns, just before its status was read).</summary>
internal readonly record struct ScannedProcess(int Pid, int Ppid, uint Uid, string Comm, bool Zombie, int Threads, ulong ReadAtNs);

/// <summary>
/// Every process /proc shows, with what subscriptions need (parent, real uid, name), read once for
/// SUBSCRIBE or a rebuild. A process that goes while it is read is left out, as if it had gone before.
/// </summary>
internal static class ProcessScan
{
    public static List<ScannedProcess> Run(IProcReader proc, List<int> scratch, Func<ulong> clock)
    {
        scratch.Clear();
        proc.ListProcesses(scratch);
        var found = new List<ScannedProcess>(scratch.Count);
        foreach (int pid in scratch)
        {
            ulong readAt = clock();
            if (!proc.TryReadStatus(pid, out var status) || status.Tgid != pid)
                continue;
            if (proc.ReadComm(pid) is not string comm)
                continue;
            found.Add(new ScannedProcess(pid, status.ParentPid, status.RealUid, comm, status.HasExited, Math.Max(status.Threads, 1), readAt));
        }
        return found;
    }

    /// <summary>Children by parent, from the scan's PPid fields.</summary>
    public static Dictionary<int, List<int>> Children(List<ScannedProcess> scan)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var p in scan)
        {
            if (p.Zombie)
                continue;
            if (!children.TryGetValue(p.Ppid, out var list))
                children[p.Ppid] = list = [];
            list.Add(p.Pid);
        }
        return children;
    }
}
