using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Events;
using Kmonitor.Interop;
using Kmonitor.Procfs;

namespace Kmonitor.Subscriptions;

/// <summary>
/// TREE, NAME, REGEX and ALL subscriptions: who is a member of which, and which records each
/// connector event calls for. Used under the dispatch lock only (the listener or the dispatcher thread), in event order, which is what
/// makes a TREE complete: a child joins when its parent's FORK is handled, and the kernel queues
/// that FORK before the child can run, so no descendant's event can come first.
/// While any subscription exists it tracks every process (<see cref="TrackedProcess"/>), so an EXIT
/// record carries the name the process had after /proc has let it go; with none it holds nothing
/// and the dispatcher need not call it (<see cref="Count"/>).
/// </summary>
/// <param name="clock">CLOCK_MONOTONIC ns, the clock of the connector's stamps (default: the system's): it dates each /proc reading.</param>
public sealed partial class SubscriptionEngine(IProcReader proc, ISubscriptionSink sink, Counters counters, Func<ulong>? clock = null)
{
    private readonly Func<ulong> _clock = clock ?? (static () => (ulong)MonotonicClock.System.NowNs());
    private readonly SubscriptionIndex _index = new();
    private readonly Dictionary<int, TrackedProcess> _processes = [];
    private readonly KmonitorEvent[] _events = new KmonitorEvent[EventMapper.MaxPerEvent];
    private readonly List<int> _pids = [];
    private readonly List<Subscription> _rematched = [];

    /// <summary>Processes forgotten at their exit, to track forked children with (see <see cref="TrackedProcess.Reuse"/>).</summary>
    private readonly Stack<TrackedProcess> _spare = new(SpareProcesses);

    /// <summary>Enough for the children alive at once in a fork storm's turnover; past it they are left to the GC.</summary>
    private const int SpareProcesses = 256;

    private int _count;

    /// <summary>Installed subscriptions. Any thread may read it (a status report); 0 means events need not come here.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Processes tracked now (under the dispatch lock).</summary>
    public int TrackedProcesses => _processes.Count;

    /// <summary>
    /// SUBSCRIBE, once the argument is valid and the caller known: scans /proc, makes the processes
    /// alive now members, reports each with an EXISTING record when asked, and from then on applies
    /// only events stamped at or after <paramref name="nowNs"/>, which the caller reads before this
    /// scans. Returns 0, ESRCH (TREE root not running) or EPERM (TREE root not the caller's to watch).
    /// </summary>
    public int Install(Subscription s, ulong nowNs)
    {
        var scan = ProcessScan.Run(proc, _pids, _clock);
        List<ScannedProcess> members;
        if (s.Scope == SubscriptionAbi.KMONITOR_SCOPE_TREE)
        {
            // A thread id names its process, as REGISTER takes one.
            int rootPid = proc.TryReadStatus(s.RootPid, out var rootStatus) ? rootStatus.Tgid : s.RootPid;
            int root = scan.FindIndex(p => p.Pid == rootPid);
            if (root < 0 || scan[root].Zombie)
                return Errno.ESRCH;
            if (!s.Rights.Allows(scan[root].Uid))
                return Errno.EPERM;
            members = Descendants(scan, root);
        }
        else
        {
            members = [];
            foreach (var p in scan)
            {
                if (!p.Zombie && Matches(s, p.Pid, p.Comm))
                    members.Add(p);
            }
        }

        s.StartNs = nowNs;
        s.Installed = true;
        _index.Add(s);
        Volatile.Write(ref _count, _count + 1);
        foreach (var p in scan)
        {
            if (!p.Zombie) // a zombie's EXIT may have been handled already: tracking it now would keep it forever
                Remember(p);
        }
        if (s.Scope != SubscriptionAbi.KMONITOR_SCOPE_ALL)
        {
            foreach (var p in members)
                _processes[p.Pid].Join(s);
        }
        if (s.Spec.Existing)
        {
            // Membership ignores the policy (a uid change may allow a member later); every record obeys it.
            foreach (var p in members.Where(p => s.Rights.Allows(p.Uid)))
                sink.Deliver(s, new SubscriptionEvent(SubscriptionAbi.KMONITOR_PROCESS_EXISTING, p.Pid, p.Pid, p.Ppid, p.Uid, 0, nowNs, p.Comm));
        }
        return 0;
    }

    /// <summary>The root and its living descendants (by PPid), the root first, each parent before its children.</summary>
    private static List<ScannedProcess> Descendants(List<ScannedProcess> scan, int root)
    {
        var children = ProcessScan.Children(scan);
        var byPid = scan.ToDictionary(p => p.Pid);
        var found = new List<ScannedProcess> { scan[root] };
        for (int i = 0; i < found.Count; i++)
        {
            if (!children.TryGetValue(found[i].Pid, out var list))
                continue;
            foreach (int child in list)
                found.Add(byPid[child]);
        }
        return found;
    }

    /// <summary>Takes what a scan saw as the latest word on a process.</summary>
    private TrackedProcess Remember(in ScannedProcess p)
    {
        if (!_processes.TryGetValue(p.Pid, out var known))
            _processes[p.Pid] = known = new TrackedProcess(p.Pid, p.Ppid, p.Uid, p.Comm, []);
        known.Ppid = p.Ppid;
        known.Uid = p.Uid;
        known.Comm = p.Comm;
        known.CountFrom(p.Threads, p.ReadAtNs);
        return known;
    }

    /// <summary>UNSUBSCRIBE: false when it was not installed.</summary>
    public bool Remove(Subscription s)
    {
        if (!s.Installed)
            return false;
        Uninstall(s);
        Forget();
        return true;
    }

    /// <summary>Close: drops every subscription of <paramref name="file"/>; returns how many.</summary>
    public int RemoveAll(object file)
    {
        int removed = 0;
        foreach (var s in _index.Installed)
        {
            if (ReferenceEquals(s.File, file))
            {
                Uninstall(s);
                removed++;
            }
        }
        if (removed > 0)
            Forget();
        return removed;
    }

    private void Uninstall(Subscription s)
    {
        s.Installed = false;
        _index.Remove(s);
        Volatile.Write(ref _count, _count - 1);
    }

    /// <summary>Drops memberships of removed subscriptions; with none left, every process too.</summary>
    private void Forget()
    {
        if (_count == 0)
        {
            _processes.Clear();
            _processes.TrimExcess();
            return;
        }
        foreach (var p in _processes.Values)
            p.DropRemoved();
    }

    /// <summary>Handles one connector event (the kinds it does not concern are ignored).</summary>
    public void Handle(in ProcEvent ev)
    {
        switch (ev.What)
        {
            case ProcEventWhat.PROC_EVENT_FORK:
                OnFork(ev);
                break;
            case ProcEventWhat.PROC_EVENT_EXEC:
                OnExec(ev);
                break;
            case ProcEventWhat.PROC_EVENT_EXIT:
                OnExit(ev);
                break;
            case ProcEventWhat.PROC_EVENT_COMM:
                OnComm(ev);
                break;
            case ProcEventWhat.PROC_EVENT_UID:
                OnUid(ev);
                break;
        }
    }

    /// <summary>
    /// PROCESS_FORK to the forking process's subscriptions (the record is about the child), and the
    /// child joins them, with its parent's name until it execs; or THREAD_CREATE to the process's.
    /// </summary>
    public void OnFork(in ProcEvent ev)
    {
        ulong ts = ev.TimestampNs;
        if (ev.Pid != ev.Tgid)
        {
            if (Track(ev.Tgid) is { } process)
            {
                process.CountTask(+1, ts);
                DeliverMapped(ev, process, ppid: ev.Tgid);
            }
            return;
        }
        if (Track(ev.ParentTgid) is not { } parent)
        {
            Track(ev.Tgid);
            return;
        }
        DeliverMapped(ev, parent, ppid: parent.Tgid);
        var inherited = parent.MembersAt(ts);
        if (_processes.TryGetValue(ev.Tgid, out var child))
        {
            child.Join(inherited); // a scan after the fork saw it first: what it decided stands
        }
        else
        {
            child = NewTracked(ev.Tgid, parent.Tgid, parent.Uid, parent.Comm, inherited);
            child.CountFrom(1, ts);
            _processes[ev.Tgid] = child;
        }
    }

    /// <summary>
    /// PROCESS_EXEC. The connector sends no name, so /proc/PID/comm is read now: NAME and REGEX
    /// memberships are decided again, then the record goes to the subscriptions that hold it after.
    /// </summary>
    public void OnExec(in ProcEvent ev)
    {
        ulong ts = ev.TimestampNs;
        _processes.TryGetValue(ev.Tgid, out var p);
        if (!_index.HasByName && _index.Everything.Length == 0 && p is not { Members.Length: > 0 })
            return; // no record can come of it, and a later SUBSCRIBE reads /proc itself
        if (p is null)
        {
            p = Track(ev.Tgid);
            if (p is null)
            {
                Interlocked.Increment(ref counters.NamesUnreadAtExec);
                return;
            }
        }
        else if (proc.ReadComm(ev.Tgid) is string comm)
        {
            p.Comm = comm;
        }
        else
        {
            // Reaped before it could be read: whether it matches now is unknowable, so it matches no
            // name, and its records say so with an empty name rather than the one it had before exec.
            Interlocked.Increment(ref counters.NamesUnreadAtExec);
            p.Comm = "";
            Rematch(p, ts, commOnly: false, nameKnown: false);
            DeliverMapped(ev, p, p.Ppid);
            return;
        }
        Rematch(p, ts, commOnly: false, nameKnown: true);
        DeliverMapped(ev, p, p.Ppid);
    }

    /// <summary>
    /// Exits, with the name the process had. A thread's is THREAD_ABORT/THREAD_EXIT; the process's
    /// PROCESS_ABORT/PROCESS_EXIT come with the exit of its last task (as for REGISTER: a leader
    /// gone with pthread_exit does not end its process), with that task's wait status, and end
    /// its every membership.
    /// </summary>
    public void OnExit(in ProcEvent ev)
    {
        ulong ts = ev.TimestampNs;
        if (!_processes.TryGetValue(ev.Tgid, out var p))
        {
            if (_index.Everything.Length == 0)
                return;
            // An ALL subscription's process never seen: its name, if /proc still has it. A thread's exit
            // is already out of the thread count read now; a leader's zombie still counts itself.
            p = Read(ev.Tgid, ev.Pid == ev.Tgid ? ts : ts + 1);
            if (p is null)
                return;
            _processes[ev.Tgid] = p;
        }
        int ppid = ev.ParentTgid != 0 ? ev.ParentTgid : p.Ppid;
        p.CountTask(-1, ts);
        if (ev.Pid != ev.Tgid)
            DeliverMapped(ev, p, ppid);
        else
            p.LeaderGone = true;
        if (!p.LeaderGone || p.Tasks > 0)
            return;
        _processes.Remove(ev.Tgid);
        DeliverMapped(ev with { Pid = ev.Tgid }, p, ppid); // the leader's exit, as EventMapper makes it: PROCESS_*
        if (_spare.Count < SpareProcesses)
            _spare.Push(p); // nothing refers to it any more: records copy what they need
    }

    private TrackedProcess NewTracked(int tgid, int ppid, uint uid, string comm, Subscription[] members)
    {
        if (!_spare.TryPop(out var p))
            return new TrackedProcess(tgid, ppid, uid, comm, members);
        p.Reuse(tgid, ppid, uid, comm, members);
        return p;
    }

    /// <summary>
    /// PROC_EVENT_COMM (prctl PR_SET_NAME, a write to /proc/PID/comm): the process's name changed,
    /// so NAME and REGEX-on-the-name memberships are decided again. Only the leader's name is the
    /// process's, as ps and pgrep show it.
    /// </summary>
    public void OnComm(in ProcEvent ev)
    {
        if (ev.Pid != ev.Tgid || !_processes.TryGetValue(ev.Tgid, out var p))
            return;
        if (!_index.HasByName && _index.Everything.Length == 0 && p.Members.Length == 0)
            return; // nobody would read the name; a later SUBSCRIBE reads /proc itself
        string comm = proc.CommOf(ev); // the event's: the process may be reaped by now
        if (comm == p.Comm)
            return;
        p.Comm = comm;
        Rematch(p, ev.TimestampNs, commOnly: true, nameKnown: true);
    }

    /// <summary>A real uid changed: every later record about the process is decided with the new one.</summary>
    public void OnUid(in ProcEvent ev)
    {
        if (ev.Pid == ev.Tgid && _processes.TryGetValue(ev.Tgid, out var p))
            p.Uid = ev.RealUid;
    }

    /// <summary>The tracked process, or one read from /proc and tracked from now on; null when it is gone.</summary>
    private TrackedProcess? Track(int tgid)
    {
        if (_processes.TryGetValue(tgid, out var p))
            return p;
        p = Read(tgid, _clock());
        if (p is not null)
            _processes[tgid] = p;
        return p;
    }

    /// <summary>A process not seen before (its fork was missed), as /proc shows it at <paramref name="readAtNs"/>; no memberships.</summary>
    private TrackedProcess? Read(int tgid, ulong readAtNs)
    {
        if (!proc.TryReadStatus(tgid, out var status) || proc.ReadComm(tgid) is not string comm)
            return null;
        var p = NewTracked(tgid, status.ParentPid, status.RealUid, comm, []);
        p.CountFrom(Math.Max(status.Threads, 1), readAtNs);
        return p;
    }

    /// <summary>The records <see cref="EventMapper"/> makes of the event (so bits mean what REGISTER's do), about <paramref name="p"/>.</summary>
    private void DeliverMapped(in ProcEvent ev, TrackedProcess p, int ppid)
    {
        int n = EventMapper.Map(ev, _events);
        for (int i = 0; i < n; i++)
        {
            var kev = _events[i];
            bool exit = kev.EndsTask;
            Deliver(p, new SubscriptionEvent(kev.Bit, kev.SubjectPid, ev.Tgid, ppid, p.Uid, exit ? ev.ExitCode : 0, ev.TimestampNs, p.Comm));
        }
    }

    /// <summary>One record to each subscription the process is a member of (and every ALL) that wants it and may see it.</summary>
    private void Deliver(TrackedProcess p, in SubscriptionEvent e)
    {
        foreach (var s in p.Members)
        {
            if (s.Installed && s.Wants(e.Bit, e.TimeNs) && s.Rights.Allows(e.Uid))
                sink.Deliver(s, e);
        }
        foreach (var s in _index.Everything)
        {
            if (s.Installed && s.Wants(e.Bit, e.TimeNs) && s.Rights.Allows(e.Uid))
                sink.Deliver(s, e);
        }
    }
}
