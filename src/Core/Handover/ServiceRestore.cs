using Kmonitor.Diagnostics;
using Kmonitor.Events;
using Kmonitor.Procfs;
using Kmonitor.Abi;
using Kmonitor.Registrations;
using Kmonitor.Subscriptions;

namespace Kmonitor.Handover;

/// <summary>
/// Puts a previous instance's state back into a new, not yet started service: the open files under
/// their old handles, their queued records, and every registration whose monitor is still the same
/// process. A target that is still the same process gets its pidfd again; one that has ended (or whose
/// pid now belongs to another process) goes into the table without one, stamped as it was, so an EXIT
/// still queued in the netlink socket ends it with its exit code; <see cref="ReportEnded"/> then ends
/// whatever that did not, as a resync does.
/// </summary>
public sealed class ServiceRestore
{
    private readonly KmonitorService _service;
    private readonly List<int> _ended = [];
    private readonly List<(Subscription, RootAtTakeover)> _subscriptions = [];

    public int Files { get; private set; }
    public int Registrations { get; private set; }

    public int Subscriptions => _subscriptions.Count;

    /// <summary>Registrations and subscriptions dropped because their monitor process has gone (they would have gone with it).</summary>
    public int MonitorsGone { get; private set; }

    /// <summary>Targets found ended, or replaced by another process with their pid.</summary>
    public int TargetsEnded => _ended.Count;

    /// <summary>When the registrations were restored: what REGISTER adds after it is not the restore's to end.</summary>
    private long _restoredAtNs;

    private ServiceRestore(KmonitorService service) => _service = service;

    public static ServiceRestore Apply(KmonitorService service, ServiceState state)
    {
        var restore = new ServiceRestore(service);
        restore.Run(state);
        return restore;
    }

    private void Run(ServiceState state)
    {
        var files = _service.Files;
        foreach (var saved in state.Files)
        {
            var file = files.Adopt(saved.Handle);
            file.Records.Restore(saved.Records, saved.NextSeq, saved.Dropped, saved.PollHandle);
            lock (file.Gate)
                file.LastSubscriptionId = saved.LastSubscriptionId;
            foreach (var r in saved.Registrations)
                RestoreRegistration(file, r);
            foreach (var sub in saved.Subscriptions)
                RestoreSubscription(file, sub);
            Files++;
        }
        files.AdoptedUpTo(state.LastHandle);
        // The dispatcher has not started: the engine is still this thread's to call.
        _service.Subscriptions.Reinstall(_subscriptions);
        _restoredAtNs = _service.Table.NowNs();
    }

    /// <summary>
    /// The monitor of a saved registration or subscription, if it is still the same process (same
    /// start time) and gets a pidfd; otherwise counted in <see cref="MonitorsGone"/>: what it held
    /// would have gone with it.
    /// </summary>
    private bool TryRestoreMonitor(DeviceFile file, int tgid, ulong start, int namespaceDepth, ulong pidNamespace, out MonitorProcess monitor)
    {
        monitor = null!;
        if (start != 0 && ProcessStartTime.Read(tgid) == start
            && _service.Files.MonitorFor(file, tgid, namespaceDepth, pidNamespace, out monitor) == 0)
            return true;
        MonitorsGone++;
        return false;
    }

    private void RestoreRegistration(DeviceFile file, RegistrationState r)
    {
        if (!TryRestoreMonitor(file, r.MonitorTgid, r.MonitorStart, r.MonitorNamespaceDepth, r.MonitorPidNamespace, out var monitor))
            return;
        Exits.WatchedProcess? process = null;
        bool same = r.TargetStart != 0 && ProcessStartTime.Read(r.Target) == r.TargetStart;
        if (same && r.Target == r.TargetTgid)
        {
            long readAt = _service.Table.NowNs();
            int liveTasks = _service.Proc.TryReadStatus(r.Target, out var status) ? status.Threads - (status.HasExited ? 1 : 0) : 1;
            // Checked again after the pidfd is open: the pid could have changed hands in between.
            if (_service.Watcher.Acquire(r.Target, liveTasks, readAt, out process) != 0 || ProcessStartTime.Read(r.Target) != r.TargetStart)
            {
                if (process is not null)
                    _service.Watcher.Release(process);
                process = null;
                same = false;
            }
        }
        var registration = new Registration(r.Target, r.TargetTgid, r.TargetUid, file)
        {
            OwnerUid = r.OwnerUid,
            TargetPidForMonitor = r.TargetPidForMonitor,
            Process = process,
            Comm = r.Comm,
        };
        _service.Quotas.TryTake(r.OwnerUid); // admitted by the previous instance: counted, never refused
        lock (file.Gate)
            file.ByTarget[r.Target] = registration;
        _service.Table.Restore(registration, r.Mask, r.MaskBefore, r.Signal, monitor, r.CreatedAtNs, r.ChangedAtNs);
        Registrations++;
        if (!same && !_ended.Contains(r.Target))
            _ended.Add(r.Target);
    }

    /// <summary>
    /// A subscription comes back under its id, with its owner's rights as SUBSCRIBE read them, if its
    /// monitor is still the same process (its exit would have ended it).
    /// </summary>
    private void RestoreSubscription(DeviceFile file, SubscriptionState s)
    {
        if (!TryRestoreMonitor(file, s.MonitorTgid, s.MonitorStart, s.MonitorNamespaceDepth, s.MonitorPidNamespace, out var monitor))
            return;
        bool byName = s.Scope == SubscriptionAbi.KMONITOR_SCOPE_NAME;
        bool regex = s.Scope == SubscriptionAbi.KMONITOR_SCOPE_REGEX;
        var spec = new SubscriptionSpec(s.Scope, (int)s.Type & KmonitorAbi.AllEvents, (s.Type & SubscriptionAbi.KMONITOR_PROCESS_EXISTING) != 0,
            s.Root, s.Signal, byName ? s.Pattern : null, regex ? PosixExtendedRegex.Compile(s.Pattern!) : null,
            (s.Flags & SubscriptionAbi.KMONITOR_MATCH_CMDLINE) != 0, regex ? s.Pattern : null);
        var rights = new WatchRights(s.RealUid, s.EffectiveUid, s.Everyone);
        var subscription = new Subscription(s.Id, spec, rights, file, monitor,
            s.Scope == SubscriptionAbi.KMONITOR_SCOPE_TREE ? s.RootPid : null) { StartNs = s.StartNs };
        _service.Quotas.TryTake(s.RealUid); // admitted by the previous instance: counted, never refused
        lock (file.Gate)
            file.Subscriptions[s.Id] = subscription;
        var root = s.Scope != SubscriptionAbi.KMONITOR_SCOPE_TREE ? RootAtTakeover.None
            : s.RootStart == 0 ? RootAtTakeover.GoneBefore
            : ProcessStartTime.Read(s.RootPid) == s.RootStart ? RootAtTakeover.Same
            : RootAtTakeover.EndedInGap;
        _subscriptions.Add((subscription, root));
    }

    /// <summary>
    /// Ends the registrations on targets that ended while no daemon ran and that the queued netlink
    /// events did not end: call once the listener has drained what the socket held. Their exit is
    /// reported as a resync reports one (the exit code /proc has, which for a reaped task is 0).
    /// </summary>
    public void ReportEnded()
    {
        foreach (int pid in _ended)
        {
            if (_service.Exits.TakeEnded(pid, _restoredAtNs) is { } ended)
            {
                Interlocked.Increment(ref _service.Counters.ExitsFromResync);
                _service.Ring.Post(ProcEvent.EndedAtRegister(pid, _service.Table.NowNs()), ended);
            }
        }
        if (_ended.Count > 0)
            Log.Info($"takeover: {_ended.Count} watched processes ended while no daemon ran; reported what the netlink socket had not");
        if (_subscriptions.Count > 0)
            _service.Ring.Post(ProcEvent.SubscriptionChange(_service.Table.NowNs()), SubscriptionChange.TakeoverBacklogHandled());
    }
}
