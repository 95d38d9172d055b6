using Kmonitor.Procfs;
using Kmonitor.Abi;
using Kmonitor.Registrations;
using Kmonitor.Subscriptions;

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
            var subscriptions = new List<SubscriptionState>();
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
                foreach (var s in file.Subscriptions.Values)
                {
                    // Not yet installed: its SUBSCRIBE has not been answered, so nobody knows its id.
                    if (s.Installed && !s.Cancelled && s.Monitor is MonitorProcess m)
                        subscriptions.Add(Describe(s, m));
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
            for (int i = 0; i < subscriptions.Count; i++)
            {
                var s = subscriptions[i];
                subscriptions[i] = s with
                {
                    RootStart = s.Scope == SubscriptionAbi.KMONITOR_SCOPE_TREE ? ProcessStartTime.Read(s.RootPid) ?? 0 : 0,
                    MonitorStart = ProcessStartTime.Read(s.MonitorTgid) ?? 0,
                };
            }
            var (records, nextSeq, dropped, pollHandle) = file.Records.Snapshot();
            files.Add(new FileState(file.Handle, lastSubscription, registrations, records, nextSeq, dropped, subscriptions, pollHandle));
        }
        return new ServiceState(service.Files.LastHandle, files);
    }

    /// <summary>The subscription as its request had it; the start times are read after, outside the lock.</summary>
    private static SubscriptionState Describe(Subscription s, MonitorProcess m)
    {
        var spec = s.Spec;
        uint type = (uint)spec.Events | (spec.Existing ? (uint)SubscriptionAbi.KMONITOR_PROCESS_EXISTING : 0);
        uint flags = spec.MatchCommandLine ? SubscriptionAbi.KMONITOR_MATCH_CMDLINE : 0;
        return new SubscriptionState(s.Id, spec.Scope, type, flags, spec.Signal, spec.Name ?? spec.PatternText,
            spec.Root, s.RootPid, 0, s.StartNs, s.Rights.RealUid, s.Rights.EffectiveUid, s.Rights.Everyone,
            m.Tgid, 0, m.PidNamespaceDepth, m.PidNamespace);
    }
}
