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
    /// A member that ended in the gap is a zombie now (nobody has reaped it, or it would be gone): it
    /// joins as well, until <see cref="ForgetEndedAtTakeover"/>, so that its queued EXIT is reported.
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
        var ended = new List<ScannedProcess>();
        foreach (var p in scan)
        {
            if (!p.Zombie)
                Remember(p);
            else if (p.Threads == 1) // a leader gone with its threads still running is not a process that ended
                ended.Add(p);
        }
        foreach (var (s, root) in restored)
        {
            if (s.Scope == SubscriptionAbi.KMONITOR_SCOPE_TREE)
            {
                RejoinTree(s, root, scan);
                // A zombie has no children (they went to a reaper when it exited): a child of a member is all it can be.
                foreach (var z in ended)
                {
                    if (_processes.TryGetValue(z.Ppid, out var parent) && parent.Members.Contains(s))
                        RememberEnded(z).Join(s);
                }
            }
            else if (s.IsByName)
            {
                foreach (var p in scan)
                {
                    if (!p.Zombie && Matches(s, p.Pid, p.Comm))
                        _processes[p.Pid].Join(s);
                }
                foreach (var z in ended)
                {
                    if (Matches(s, z.Pid, z.Comm))
                        RememberEnded(z).Join(s);
                }
            }
        }
    }

    /// <summary>Processes the reinstall found ended, tracked until the events of the gap have been handled.</summary>
    private readonly List<TrackedProcess> _endedAtTakeover = [];

    /// <summary>
    /// A zombie, tracked so that its EXIT, if it is among the queued events, is reported: it counts
    /// itself, and any EXIT of it counts, however early (it came before the scan).
    /// </summary>
    private TrackedProcess RememberEnded(in ScannedProcess z)
    {
        if (_processes.TryGetValue(z.Pid, out var known))
            return known;
        var p = NewTracked(z.Pid, z.Ppid, z.Uid, z.Comm, []);
        p.CountFrom(1, 0);
        _processes[z.Pid] = p;
        _endedAtTakeover.Add(p);
        return p;
    }

    /// <summary>
    /// Once the events queued during the gap have been handled (under the dispatch lock): a zombie of the
    /// reinstall that no EXIT ended had ended before the previous instance stopped, which reported it;
    /// it is forgotten, or it would be tracked until its pid came back.
    /// </summary>
    public void ForgetEndedAtTakeover()
    {
        foreach (var p in _endedAtTakeover)
        {
            if (_processes.TryGetValue(p.Tgid, out var tracked) && ReferenceEquals(tracked, p))
                _processes.Remove(p.Tgid);
        }
        _endedAtTakeover.Clear();
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
