using Kmonitor.Abi;

namespace Kmonitor.Subscriptions;

/// <summary>What a takeover found of a TREE's root, by pid and start time.</summary>
public enum RootAtTakeover
{
    /// <summary>Not a TREE.</summary>
    None,

    /// <summary>Still the same process: the tree is its descendants now.</summary>
    Same,

    /// <summary>Alive when the state was written, gone (or its pid another's) now: its EXIT may be queued.</summary>
    EndedInGap,

    /// <summary>Already gone when the state was written: its EXIT was reported then.</summary>
    GoneBefore,
}

public sealed partial class SubscriptionEngine
{
    /// <summary>
    /// A takeover: installs the previous instance's subscriptions before the dispatcher starts, from
    /// one /proc scan, without EXISTING records (each was reported at its SUBSCRIBE). Each keeps the
    /// StartNs of its SUBSCRIBE, so the events queued in the netlink socket during the gap, handled
    /// next, apply to it: a member forked in the gap that the scan already saw is joined again by its
    /// FORK (harmless), one that came and went in the gap is made by its FORK as if live.
    /// A TREE whose root ended in the gap follows only the root, so a queued EXIT of it is reported;
    /// the root's descendants, reparented, cannot be told from other processes any more and are lost.
    /// </summary>
    public void Reinstall(IReadOnlyList<(Subscription Subscription, RootAtTakeover Root)> restored)
    {
        if (restored.Count == 0)
            return;
        var scan = ProcessScan.Run(proc, _pids, _clock);
        foreach (var (s, _) in restored)
        {
            s.Installed = true;
            _index.Add(s);
            Volatile.Write(ref _count, _count + 1);
        }
        foreach (var p in scan)
        {
            if (!p.Zombie)
                Remember(p);
        }
        foreach (var (s, root) in restored)
        {
            if (s.Scope == SubscriptionAbi.KMONITOR_SCOPE_TREE)
                RejoinTree(s, root, scan);
            else if (s.IsByName)
            {
                foreach (var p in scan)
                {
                    if (!p.Zombie && Matches(s, p.Pid, p.Comm))
                        _processes[p.Pid].Join(s);
                }
            }
        }
    }

    private void RejoinTree(Subscription s, RootAtTakeover root, List<ScannedProcess> scan)
    {
        int at = root == RootAtTakeover.Same ? scan.FindIndex(p => p.Pid == s.RootPid && !p.Zombie) : -1;
        if (at >= 0)
        {
            foreach (var p in Descendants(scan, at))
                _processes[p.Pid].Join(s);
            return;
        }
        // Gone, or ended between the start-time check and the scan. A pid now another process's is left
        // alone: an EXIT queued for the old root would end the new one's tracking.
        if (root == RootAtTakeover.GoneBefore || _processes.ContainsKey(s.RootPid))
            return;
        var placeholder = NewTracked(s.RootPid, 0, s.Rights.RealUid, "", [s]);
        placeholder.CountFrom(1, 0);
        _processes[s.RootPid] = placeholder;
    }
}
