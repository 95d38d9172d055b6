using Kmonitor.Abi;

namespace Kmonitor.Subscriptions;

public sealed partial class SubscriptionEngine
{
    /// <summary>
    /// After a netlink overflow (FORKs, EXECs and EXITs lost): forgets the processes /proc no longer
    /// has, tracks the ones it did not see born, decides names again, and makes every living
    /// descendant of a TREE member a member. Returns how many TREE members were gone (their ends
    /// went unreported).
    /// </summary>
    public int Rebuild()
    {
        if (_count == 0)
            return 0;
        var scan = ProcessScan.Run(proc, _pids, _clock);
        var seen = new HashSet<int>(scan.Count);
        foreach (var p in scan)
            seen.Add(p.Pid);
        int lost = 0;
        foreach (var (pid, p) in _processes)
        {
            if (seen.Contains(pid))
                continue;
            if (Array.Exists(p.Members, s => s.Scope == SubscriptionAbi.KMONITOR_SCOPE_TREE))
                lost++;
            _processes.Remove(pid);
        }
        foreach (var scanned in scan)
        {
            if (scanned.Zombie)
                continue; // its EXIT may still come; a zombie is not matched anew
            bool known = _processes.TryGetValue(scanned.Pid, out var p);
            bool renamed = known && p!.Comm != scanned.Comm;
            p = Remember(scanned);
            if (!known || renamed || _index.HasCommandLineRegexes)
                Rematch(p, ulong.MaxValue, commOnly: false, nameKnown: true);
        }
        if (_index.HasTrees)
            RejoinTrees(scan);
        Interlocked.Add(ref counters.TreeMembersLost, lost);
        return lost;
    }

    /// <summary>Every living descendant (by PPid) of a TREE's members joins it.</summary>
    private void RejoinTrees(List<ScannedProcess> scan)
    {
        var children = ProcessScan.Children(scan);
        var pending = new Queue<TrackedProcess>();
        foreach (var tree in _index.Installed)
        {
            if (tree.Scope != SubscriptionAbi.KMONITOR_SCOPE_TREE)
                continue;
            foreach (var p in _processes.Values)
            {
                if (p.IsMemberOf(tree))
                    pending.Enqueue(p);
            }
            while (pending.TryDequeue(out var member))
            {
                if (!children.TryGetValue(member.Tgid, out var list))
                    continue;
                foreach (int pid in list)
                {
                    if (_processes.TryGetValue(pid, out var child) && !child.IsMemberOf(tree))
                    {
                        child.Join(tree);
                        pending.Enqueue(child);
                    }
                }
            }
        }
    }
}
