using Kmonitor.Procfs;
using Kmonitor.Registrations;

namespace Kmonitor.Handover;

/// <summary>
/// Reads the service's state for the next instance. Taken once nothing changes it any more (the
/// request loop and the dispatcher have stopped), so each file is read under its own lock only.
/// </summary>
public static class ServiceSnapshot
{
    public static ServiceState Capture(KmonitorService service)
    {
        var files = new List<FileState>();
        foreach (var file in service.Files.All())
        {
            var registrations = new List<RegistrationState>();
            uint lastSubscription;
            lock (file.Gate)
            {
                lastSubscription = file.LastSubscriptionId;
                foreach (var r in file.ByTarget.Values)
                {
                    if (r.Removed)
                        continue;
                    var m = r.Monitor;
                    registrations.Add(new RegistrationState(
                        r.Target, r.TargetTgid, 0, r.TargetUid, r.Mask, r.MaskBefore, r.Signal, r.CreatedAtNs, r.ChangedAtNs,
                        r.OwnerUid, r.TargetPidForMonitor, r.Comm, m.Tgid, 0, m.PidNamespaceDepth, m.PidNamespace));
                }
            }
            // Start times are read outside the lock: a read of /proc is a system call.
            for (int i = 0; i < registrations.Count; i++)
            {
                var r = registrations[i];
                registrations[i] = r with
                {
                    TargetStart = ProcessStartTime.Read(r.Target) ?? 0,
                    MonitorStart = ProcessStartTime.Read(r.MonitorTgid) ?? 0,
                };
            }
            var (records, nextSeq, dropped) = file.Records.Snapshot();
            files.Add(new FileState(file.Handle, lastSubscription, registrations, records, nextSeq, dropped));
        }
        return new ServiceState(service.Files.LastHandle, files);
    }
}
