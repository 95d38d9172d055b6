using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Events;
using Kmonitor.Exits;
using Kmonitor.Interop;
using Kmonitor.Procfs;
using Kmonitor.Security;

namespace Kmonitor.Registrations;

/// <summary>
/// KMONITOR_IOW_REGISTER and KMONITOR_IOW_DEREGISTER: who is calling (<see cref="CallerResolver"/>),
/// whether it may watch the target (the <see cref="WatchPolicyKind"/>), whether it may hold one more
/// (<see cref="Quotas"/>), and the registration made, widened, narrowed or removed. Each returns 0
/// or the positive errno the caller's ioctl fails with; a request whose pid must be translated by a
/// scan of /proc completes later, on the <see cref="ScanWorker"/>.
/// </summary>
public sealed class Registrar(
    CallerResolver callers,
    WatchPolicyKind policy,
    Quotas quotas,
    OpenFiles files,
    RegistrationTable table,
    ProcessWatcher watcher,
    ExitReporter exits,
    EventRing ring,
    ScanWorker scans,
    IProcReader proc,
    Counters counters,
    TimeProvider? time = null)
{
    private readonly RateLimiter _refusalLog = new(TimeSpan.FromSeconds(5), time);

    /// <summary>
    /// REGISTER from thread <paramref name="callerTid"/> (the thread in the request header), whose
    /// filesystem uid the header gives as <paramref name="callerFsUid"/> when known.
    /// </summary>
    public ValueTask<int> Register(DeviceFile file, int callerTid, KmonitorCmd cmd, uint? callerFsUid = null)
    {
        if (cmd.Pid <= 0 || cmd.Type == 0 || (cmd.Type & ~KmonitorAbi.AllEvents) != 0
            || (cmd.Signal != SubscriptionAbi.RecordsInsteadOfSignal && (cmd.Signal < KmonitorAbi.MinSignal || cmd.Signal > KmonitorAbi.MaxSignal)))
            return new(Errno.EINVAL); // signal 0: records on the file instead of a signal
        if (callerFsUid is uint fsUid && callers.FindKnown(file, callerTid, fsUid) is { } known)
        {
            // A thread seen before, in the daemon's pid namespace: only the target is read. The policy
            // is decided here only when the request's own uid settles it (the target is the caller's,
            // or the caller has root's filesystem identity); anything else takes the full path below.
            long readAt = table.NowNs();
            if (!proc.TryReadStatus(cmd.Pid, out var target))
                return new(Errno.ESRCH);
            if (policy == WatchPolicyKind.Open || target.RealUid == fsUid || fsUid == 0)
                return new(Add(file, new Caller(known.Monitor.Tgid, known.RealUid, 0, 0), cmd.Pid, target, readAt, cmd));
        }

        if (!callers.TryRead(callerTid, out var status))
            return new(Errno.ESRCH); // the calling thread is gone: nobody is left to answer
        if (status.NamespaceDepth == 0)
            return new(RegisterFrom(file, callerTid, status, 0, cmd.Pid, cmd, callerFsUid));
        // The caller names the target as its own pid namespace sees it: finding that task may take a
        // scan of /proc, which is not done on the thread that serves every other caller.
        return scans.Run(() =>
        {
            if (callers.PidNamespace(callerTid) is not ulong ns || callers.ToDaemonPid(ns, status.NamespaceDepth, cmd.Pid) is not int pid)
                return Errno.ESRCH;
            return RegisterFrom(file, callerTid, status, ns, pid, cmd, callerFsUid);
        });
    }

    /// <summary>REGISTER once the caller is read and the target named in the daemon's pid namespace.</summary>
    private int RegisterFrom(DeviceFile file, int callerTid, in ProcTaskStatus status, ulong pidNamespace, int pid, KmonitorCmd cmd, uint? callerFsUid)
    {
        long readAt = table.NowNs();
        if (!proc.TryReadStatus(pid, out var target))
            return Errno.ESRCH;
        if (!MayWatch(callerTid, status, pid, target))
            return Errno.EPERM;
        var caller = new Caller(status.Tgid, status.RealUid, status.NamespaceDepth, pidNamespace);
        int error = Add(file, caller, pid, target, readAt, cmd);
        if (error == 0 && callerFsUid is uint uid && caller.NamespaceDepth == 0)
            callers.Remember(file, callerTid, caller, uid);
        return error;
    }

    private bool MayWatch(int callerTid, in ProcTaskStatus caller, int pid, in ProcTaskStatus target)
    {
        if (WatchPolicy.MayWatch(policy, caller, static s => s.Callers.IsInDaemonUserNamespace(s.Tid), (Callers: callers, Tid: callerTid), target.RealUid))
            return true;
        if (_refusalLog.TryAcquire())
            Log.Warning($"REGISTER of pid {pid} (uid {target.RealUid}) by pid {caller.Tgid} (uid {caller.RealUid}) refused: " +
                        "not its user, and neither root nor CAP_KILL/CAP_SYS_PTRACE (--policy open allows it)");
        return false;
    }

    /// <summary>
    /// Adds (or widens) the registration once the caller may watch the target. The pidfds it needs
    /// are opened before the file's lock is taken, and given back when they turn out not needed.
    /// </summary>
    private int Add(DeviceFile file, in Caller caller, int pid, in ProcTaskStatus target, long readAt, KmonitorCmd cmd)
    {
        int error = files.MonitorFor(file, caller.Tgid, caller.NamespaceDepth, caller.PidNamespace, out var monitor);
        if (error != 0)
            return error;
        bool threadTarget = pid != target.Tgid;
        // Records carry the target's name, also after it has gone from /proc: read it now, outside the lock.
        string? comm = cmd.Signal == SubscriptionAbi.RecordsInsteadOfSignal ? proc.ReadComm(pid) : null;
        WatchedProcess? process = null; // a pidfd opened for a new registration, until the registration holds it
        Registration? registration = null;
        try
        {
            while (registration is null)
            {
                if (file.Find(pid) is null)
                {
                    // A new registration: refused before anything is opened when the limits are reached.
                    if (!HasRoom(file, caller))
                        return Refuse(cmd, caller);
                    if (!threadTarget && process is null)
                    {
                        // The pidfd binds the registration to this process, not to its number.
                        int liveTasks = target.Threads - (target.HasExited ? 1 : 0); // a leader gone with pthread_exit stays listed
                        error = watcher.Acquire(pid, liveTasks, readAt, out process);
                        if (error != 0)
                            return error == Errno.EINVAL ? Errno.ESRCH : error;
                    }
                }
                lock (file.Gate)
                {
                    if (file.Closed)
                        error = Errno.EBADF;
                    else if (monitor.Dropped)
                        error = Errno.ESRCH; // the calling process has exited meanwhile
                    else if (file.ByTarget.TryGetValue(pid, out var existing) && !existing.Removed)
                    {
                        // As the original: the mask is ORed in and the signal replaced. The monitor becomes the
                        // caller, since registrations belong to the file and the file may be shared.
                        table.Update(existing, existing.Mask | cmd.Type, cmd.Signal, monitor);
                        registration = existing;
                    }
                    else if (threadTarget || process is not null)
                    {
                        if (!quotas.FileHasRoom(file.ByTarget.Count) || !quotas.TryTake(caller.RealUid))
                        {
                            error = Errno.ENOSPC; // logged below: not a write(2) under the file's lock
                        }
                        else
                        {
                            registration = new Registration(pid, target.Tgid, target.RealUid, file)
                            {
                                OwnerUid = caller.RealUid,
                                TargetPidForMonitor = cmd.Pid,
                                Process = process,
                                Comm = comm,
                            };
                            process = null;
                            file.ByTarget[pid] = registration;
                            table.Add(registration, cmd.Type, cmd.Signal, monitor);
                        }
                    }
                    // else: the registration this file had went away meanwhile; open a pidfd and look again.
                }
                if (error == Errno.ENOSPC)
                    return Refuse(cmd, caller);
                if (error != 0)
                    return error;
            }
        }
        finally
        {
            if (process is not null)
                watcher.Release(process);
        }
        Interlocked.Increment(ref counters.Registers);

        // Checked after the registration is in the table: if the target dies from here on, the netlink
        // EXIT finds it; if it died before (a zombie), the EXIT may already have gone by, so its exit is
        // taken out of the table now and handed to the dispatcher, behind the events already received.
        // Registration.TryClaimExit keeps the two paths from both sending it.
        if (exits.TakeIfEnded(registration) is { } ended)
            ring.Post(ProcEvent.EndedAtRegister(pid, table.NowNs()), ended);
        return 0;
    }

    private bool HasRoom(DeviceFile file, in Caller caller)
    {
        int count;
        lock (file.Gate)
            count = file.ByTarget.Count;
        return quotas.FileHasRoom(count) && quotas.UidHasRoom(caller.RealUid);
    }

    private int Refuse(KmonitorCmd cmd, in Caller caller)
    {
        if (_refusalLog.TryAcquire()) // asked first: a flood of refusals formats nothing
            Log.Warning($"REGISTER of pid {cmd.Pid} by pid {caller.Tgid} (uid {caller.RealUid}): limit reached " +
                        $"({quotas.MaxPerFile} per open file, {quotas.MaxPerUid} per uid)");
        return Errno.ENOSPC;
    }

    /// <summary>DEREGISTER: clears bits; the registration goes when none is left.</summary>
    public ValueTask<int> Deregister(DeviceFile file, int callerTid, KmonitorCmd cmd)
    {
        // A caller in the daemon's pid namespace names pids as the daemon does; one in another
        // namespace needs a translation, which may take a scan of /proc.
        if (!callers.IsInOtherPidNamespace(callerTid, out var caller, out ulong ns))
            return new(DeregisterTarget(file, cmd.Pid, cmd));
        return scans.Run(() => DeregisterTarget(file, callers.ToDaemonPid(ns, caller.NamespaceDepth, cmd.Pid) ?? 0, cmd));
    }

    private int DeregisterTarget(DeviceFile file, int pid, KmonitorCmd cmd)
    {
        Registration? removed = null;
        lock (file.Gate)
        {
            if (!file.ByTarget.TryGetValue(pid, out var registration) || registration.Removed)
                return Errno.EINVAL;
            int mask = registration.Mask & ~cmd.Type;
            if (mask == 0)
            {
                file.ByTarget.Remove(pid);
                if (table.Remove(registration))
                    removed = registration;
            }
            else
            {
                table.Update(registration, mask, registration.Signal, registration.Monitor);
            }
        }
        if (removed is not null)
            exits.Retire(removed);
        Interlocked.Increment(ref counters.Deregisters);
        return 0;
    }
}
