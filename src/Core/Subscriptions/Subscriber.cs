using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Events;
using Kmonitor.Interop;
using Kmonitor.Procfs;
using Kmonitor.Registrations;
using Kmonitor.Security;

namespace Kmonitor.Subscriptions;

/// <summary>
/// KMONITOR_IOWR_SUBSCRIBE and KMONITOR_IOW_UNSUBSCRIBE on the request thread: the argument checked
/// (<see cref="SubscriptionRequest"/>), the caller read and its rights taken, the limits it shares
/// with REGISTER applied, an id given; then the subscription is handed to the dispatcher, which
/// scans /proc, sends the EXISTING records and installs it. SUBSCRIBE is answered only then, so no
/// event after it returns can be missed. It also ends the subscriptions of a closed file or of a
/// monitor that has exited (<see cref="End"/>).
/// </summary>
public sealed class Subscriber(
    CallerResolver callers,
    WatchPolicyKind policy,
    Quotas quotas,
    OpenFiles files,
    EventRing ring,
    ScanWorker scans,
    MonotonicClock clock,
    Counters counters,
    TimeProvider? time = null)
{
    private readonly RateLimiter _refusalLog = new(TimeSpan.FromSeconds(5), time);

    /// <summary>SUBSCRIBE: 0 and the new id, or the errno the ioctl fails with.</summary>
    public async ValueTask<(int Errno, uint Id)> Subscribe(DeviceFile file, int callerTid, KmonitorSubscription request)
    {
        if (SubscriptionRequest.Validate(request, out var spec, out string? why) != 0)
        {
            if (_refusalLog.TryAcquire())
                Log.Warning($"SUBSCRIBE by thread {callerTid} refused (EINVAL): {why}");
            return (Errno.EINVAL, 0);
        }
        if (!callers.TryRead(callerTid, out var status))
            return (Errno.ESRCH, 0);
        ulong pidNamespace = 0;
        int? root = null;
        if (status.NamespaceDepth != 0)
        {
            if (callers.PidNamespace(callerTid) is not ulong ns)
                return (Errno.ESRCH, 0);
            pidNamespace = ns;
            if (spec!.Scope == SubscriptionAbi.KMONITOR_SCOPE_TREE)
            {
                // The root as the caller's namespace names it: finding it may scan /proc, off this thread.
                root = await scans.Run(() => callers.ToDaemonPid(ns, status.NamespaceDepth, spec.Root) ?? 0);
                if (root == 0)
                    return (Errno.ESRCH, 0);
            }
        }
        var rights = WatchRights.Of(policy, status, () => callers.IsInDaemonUserNamespace(callerTid));
        int error = files.MonitorFor(file, status.Tgid, status.NamespaceDepth, pidNamespace, out var monitor);
        if (error != 0)
            return (error, 0);

        Subscription? subscription = null;
        lock (file.Gate)
        {
            if (file.Closed)
                return (Errno.EBADF, 0);
            // One limit for both: a subscription counts as one registration of its file and its user.
            if (quotas.FileHasRoom(file.ByTarget.Count + file.Subscriptions.Count) && quotas.TryTake(status.RealUid))
            {
                subscription = new Subscription(++file.LastSubscriptionId, spec!, rights, file, monitor, root);
                file.Subscriptions[subscription.Id] = subscription;
            }
        }
        if (subscription is null)
        {
            if (_refusalLog.TryAcquire())
                Log.Warning($"SUBSCRIBE by pid {status.Tgid} (uid {status.RealUid}) refused (ENOSPC): its file holds {quotas.MaxPerFile} " +
                            $"registrations and subscriptions, or its user {quotas.MaxPerUid}");
            return (Errno.ENOSPC, 0);
        }

        var change = SubscriptionChange.Install(subscription);
        ring.Post(ProcEvent.SubscriptionChange(clock.NowNs()), change);
        error = await change.Installed!;
        if (error != 0)
        {
            // The root is gone or not the caller's to watch: the id was never seen, so nothing is left of it.
            if (Forget(file, subscription))
                quotas.Give(subscription.Rights.RealUid);
            if (error == Errno.EPERM && _refusalLog.TryAcquire())
                Log.Warning($"SUBSCRIBE to the tree of pid {subscription.RootPid} by pid {status.Tgid} (uid {status.RealUid}) refused: " +
                            "not its user, and neither root nor CAP_KILL/CAP_SYS_PTRACE (--policy open allows it)");
            return (error, 0);
        }
        Interlocked.Increment(ref counters.Subscribes);
        if (Log.IsEnabled(LogLevel.Debug))
            Log.Debug($"{subscription} made by pid {status.Tgid} on {file}");
        return (0, subscription.Id);
    }

    /// <summary>UNSUBSCRIBE: 0, or EINVAL when the file has no subscription with this id.</summary>
    public int Unsubscribe(DeviceFile file, uint id)
    {
        Subscription? subscription;
        lock (file.Gate)
        {
            if (!file.Subscriptions.Remove(id, out subscription))
                return Errno.EINVAL;
        }
        End([subscription]);
        return 0;
    }

    /// <summary>
    /// Ends subscriptions already taken out of their file's index: nothing is sent for them from now
    /// on, their quota is given back, and the dispatcher removes them from the engine.
    /// </summary>
    public void End(IReadOnlyList<Subscription> ended)
    {
        if (ended.Count == 0)
            return;
        foreach (var subscription in ended)
        {
            subscription.Cancel();
            quotas.Give(subscription.Rights.RealUid);
        }
        ring.Post(ProcEvent.SubscriptionChange(clock.NowNs()), SubscriptionChange.Remove(ended));
    }

    private static bool Forget(DeviceFile file, Subscription subscription)
    {
        lock (file.Gate)
            return file.Subscriptions.Remove(subscription.Id);
    }
}
