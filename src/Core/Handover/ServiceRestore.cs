using Kmonitor.Diagnostics;
using Kmonitor.Events;
using Kmonitor.Procfs;
using Kmonitor.Registrations;

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

    public int Files { get; private set; }
    public int Registrations { get; private set; }

    /// <summary>Registrations dropped because their monitor process has gone (its registrations would have gone with it).</summary>
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
            file.Records.Restore(saved.Records, saved.NextSeq, saved.Dropped);
            lock (file.Gate)
                file.LastSubscriptionId = saved.LastSubscriptionId;
            foreach (var r in saved.Registrations)
                RestoreRegistration(file, r);
            Files++;
        }
        files.AdoptedUpTo(state.LastHandle);
        _restoredAtNs = _service.Table.NowNs();
    }

    private void RestoreRegistration(DeviceFile file, RegistrationState r)
    {
        if (r.MonitorStart == 0 || ProcessStartTime.Read(r.MonitorTgid) != r.MonitorStart
            || _service.Files.MonitorFor(file, r.MonitorTgid, r.MonitorNamespaceDepth, r.MonitorPidNamespace, out var monitor) != 0)
        {
            MonitorsGone++;
            return;
        }
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
    }
}
