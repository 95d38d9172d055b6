using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Events;
using Kmonitor.Interop;
using Kmonitor.Procfs;
using Kmonitor.Registrations;
using Kmonitor.Security;
using Kmonitor.Signals;

namespace Kmonitor;

/// <summary>
/// The device's semantics, independent of how requests arrive (FUSE or CUSE): REGISTER, DEREGISTER
/// and close of a file, and the delivery of notifications for the events the dispatcher matches.
/// Every public method returns 0 or the positive errno the caller's ioctl should fail with.
/// </summary>
public sealed class KmonitorService(ServiceOptions? options = null) : IDisposable
{
    public ServiceOptions Options { get; } = options ?? new ServiceOptions();
    private readonly RateLimiter _refusalLog = new(TimeSpan.FromSeconds(5));
    private readonly Dictionary<uint, int> _perUid = [];

    private readonly RateLimiter _queueFullLog = new(TimeSpan.FromSeconds(5));
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, DeviceFile> _files = new();
    private long _nextHandle;

    public RegistrationTable Table { get; } = new();
    public Counters Counters { get; } = new();

    /// <summary>The pidfds of registered target processes and of monitors.</summary>
    public Exits.ProcessWatcher Watcher { get; } = new();

    private readonly System.Collections.Concurrent.ConcurrentQueue<Exits.WatchedProcess> _gone = new();
    private int _resyncRequested;

    /// <summary>The watcher saw a process end; the dispatcher reports it when it reaches the marker event.</summary>
    public void EnqueueGone(Exits.WatchedProcess process) => _gone.Enqueue(process);

    public bool TryDequeueGone(out Exits.WatchedProcess? process) => _gone.TryDequeue(out process);

    /// <summary>Asks the dispatcher for a <see cref="Resync"/> once it has caught up.</summary>
    public void RequestResync() => Volatile.Write(ref _resyncRequested, 1);

    public bool TakeResyncRequest() => Interlocked.Exchange(ref _resyncRequested, 0) == 1;

    /// <summary>Opens a new file of the device.</summary>
    public DeviceFile Open()
    {
        var file = new DeviceFile((ulong)Interlocked.Increment(ref _nextHandle));
        _files[file.Handle] = file;
        return file;
    }

    /// <summary>The open file with this handle, if it is still open.</summary>
    public DeviceFile? FindFile(ulong handle) => _files.TryGetValue(handle, out var file) ? file : null;

    /// <summary>Files open now.</summary>
    public int OpenFileCount => _files.Count;

    /// <summary>Every monitor process of every open file, with how many registrations it holds now.</summary>
    public List<MonitorSummary> Monitors()
    {
        var summaries = new List<MonitorSummary>();
        foreach (var file in _files.Values)
        {
            lock (file.Gate)
            {
                foreach (var monitor in file.Monitors.Values)
                    summaries.Add(new MonitorSummary(monitor.Tgid, file.Handle, file.ByTarget.Values.Count(r => r.Monitor == monitor), monitor.QueueFullDrops));
            }
        }
        return summaries;
    }

    /// <summary>
    /// KMONITOR_IOW_REGISTER from thread <paramref name="callerTid"/> (the thread in the request
    /// header), whose filesystem uid the header gives as <paramref name="callerFsUid"/> when known.
    /// </summary>
    public int Register(DeviceFile file, int callerTid, KmonitorCmd cmd, uint? callerFsUid = null)
    {
        if (cmd.Pid <= 0 || cmd.Type == 0 || (cmd.Type & ~KmonitorAbi.AllEvents) != 0
            || cmd.Signal < KmonitorAbi.MinSignal || cmd.Signal > KmonitorAbi.MaxSignal)
            return Errno.EINVAL;
        long readAt;
        ProcTaskStatus target;
        if (callerFsUid is uint fsUid && FindKnownCaller(file, callerTid, fsUid) is { } known)
        {
            // A thread seen before, in the daemon's pid namespace: only the target is read. The policy
            // is decided here only when the request's own uid settles it (the target is the caller's,
            // or the caller has root's filesystem identity); anything else takes the full path below.
            readAt = RegistrationTable.MonotonicNowNs();
            if (!ProcTaskStatus.TryRead(cmd.Pid, out target))
                return Errno.ESRCH;
            if (Options.Policy == WatchPolicyKind.Open || target.RealUid == fsUid || fsUid == 0)
                return Add(file, new Caller(known.Monitor.Tgid, known.RealUid, 0), cmd.Pid, target, readAt, cmd);
        }

        if (!ProcTaskStatus.TryRead(callerTid, out var status))
            return Errno.ESRCH; // the calling thread is gone: nobody is left to answer
        // The caller names the target as its own pid namespace sees it.
        if (ToDaemonPid(callerTid, status, cmd.Pid) is not int pid)
            return Errno.ESRCH;
        readAt = RegistrationTable.MonotonicNowNs();
        if (!ProcTaskStatus.TryRead(pid, out target))
            return Errno.ESRCH;
        if (!MayWatch(callerTid, status, pid, target))
            return Errno.EPERM;
        var caller = new Caller(status.Tgid, status.RealUid, status.NamespaceDepth);
        int error = Add(file, caller, pid, target, readAt, cmd);
        if (error == 0 && callerFsUid is uint uid && caller.NamespaceDepth == 0)
            RememberCaller(file, callerTid, caller, uid);
        return error;
    }

    /// <summary>The calling process as REGISTER needs it.</summary>
    private readonly record struct Caller(int Tgid, uint RealUid, int NamespaceDepth);

    /// <summary>Adds (or widens) the registration once the caller may watch the target.</summary>
    private int Add(DeviceFile file, in Caller caller, int pid, in ProcTaskStatus target, long readAt, KmonitorCmd cmd)
    {
        Registration registration;
        lock (file.Gate)
        {
            if (file.Closed)
                return Errno.EBADF;
            int error = GetMonitor(file, caller.Tgid, caller.NamespaceDepth, out var monitor);
            if (error != 0)
                return error;
            if (file.ByTarget.TryGetValue(pid, out var existing) && !existing.Removed)
            {
                // As the original: the mask is ORed in and the signal replaced. The monitor becomes the
                // caller, since registrations belong to the file and the file may be shared.
                registration = existing;
                Table.Update(registration, registration.Mask | cmd.Type, cmd.Signal, monitor);
            }
            else
            {
                if (file.ByTarget.Count >= Options.MaxPerFile || !TryCountForUid(caller.RealUid))
                {
                    if (_refusalLog.TryAcquire()) // asked first: a flood of refusals formats nothing
                        Log.Warning($"REGISTER of pid {cmd.Pid} by pid {caller.Tgid} (uid {caller.RealUid}): limit reached " +
                                    $"({Options.MaxPerFile} per open file, {Options.MaxPerUid} per uid)");
                    return Errno.ENOSPC;
                }
                registration = new Registration(pid, target.Tgid, target.RealUid, file)
                {
                    OwnerUid = caller.RealUid,
                    TargetPidForMonitor = cmd.Pid,
                };
                if (!registration.IsThreadTarget)
                {
                    // The pidfd binds the registration to this process, not to its number.
                    int liveTasks = target.Threads - (target.HasExited ? 1 : 0); // a leader gone with pthread_exit stays listed
                    error = Watcher.Acquire(pid, liveTasks, readAt, out var process);
                    if (error != 0)
                    {
                        UncountForUid(caller.RealUid);
                        return error == Errno.EINVAL ? Errno.ESRCH : error;
                    }
                    registration.Process = process;
                }
                file.ByTarget[pid] = registration;
                Table.Add(registration, cmd.Type, cmd.Signal, monitor);
            }
        }
        Interlocked.Increment(ref Counters.Registers);

        // Checked after the registration is in the table: if the target dies from here on, the netlink
        // EXIT finds it; if it died before (a zombie), the EXIT may already have gone by, so the
        // notification is sent now. TryClaimExit keeps the two paths from both sending it.
        if (HasEnded(registration, out int? exitCode))
            EndTask(pid, exitCode, RegistrationTable.Now);
        return 0;
    }

    /// <summary>
    /// The caller as remembered, when that memory still holds: the same filesystem uid, its monitor
    /// alive, and the thread still in that process (so the tid was not reused). A remembered monitor
    /// is always the file's current one: DropMonitor and Release forget its callers with it.
    /// </summary>
    private static KnownCaller? FindKnownCaller(DeviceFile file, int callerTid, uint fsUid)
    {
        KnownCaller? known;
        lock (file.Gate)
        {
            if (!file.Callers.TryGetValue(callerTid, out known))
                return null;
            if (known.FsUid != fsUid)
            {
                file.Callers.Remove(callerTid);
                return null;
            }
        }
        return known.Monitor.IsAlive && ProcFile.IsThreadOf(known.Monitor.Tgid, callerTid) ? known : null;
    }

    private static void RememberCaller(DeviceFile file, int callerTid, in Caller caller, uint fsUid)
    {
        lock (file.Gate)
        {
            if (file.Closed || !file.Monitors.TryGetValue(caller.Tgid, out var monitor))
                return;
            if (file.Callers.Count >= KnownCaller.MaxPerFile)
                file.Callers.Clear();
            file.Callers[callerTid] = new KnownCaller(monitor, caller.RealUid, fsUid);
        }
    }

    /// <summary>The daemon's pid for what a caller calls <paramref name="localPid"/> (the same unless it is in another pid namespace).</summary>
    private static int? ToDaemonPid(int callerTid, in ProcTaskStatus caller, int localPid)
    {
        if (caller.NamespaceDepth == 0)
            return localPid;
        return Namespaces.Inode(callerTid, "pid") is ulong ns ? Namespaces.FindByLocalPid(ns, caller.NamespaceDepth, localPid) : null;
    }

    private bool MayWatch(int callerTid, in ProcTaskStatus caller, int pid, in ProcTaskStatus target)
    {
        if (WatchPolicy.MayWatch(Options.Policy, caller, static tid => Namespaces.Inode(tid, "user") == Namespaces.OwnUserNamespace, callerTid, target.RealUid))
            return true;
        if (_refusalLog.TryAcquire())
            Log.Warning($"REGISTER of pid {pid} (uid {target.RealUid}) by pid {caller.Tgid} (uid {caller.RealUid}) refused: " +
                        "not its user, and neither root nor CAP_KILL/CAP_SYS_PTRACE (--policy open allows it)");
        return false;
    }

    private bool TryCountForUid(uint uid)
    {
        lock (_perUid)
        {
            _perUid.TryGetValue(uid, out int count);
            if (count >= Options.MaxPerUid)
                return false;
            _perUid[uid] = count + 1;
            return true;
        }
    }

    private void UncountForUid(uint uid)
    {
        lock (_perUid)
        {
            if (_perUid.TryGetValue(uid, out int count) && count > 1)
                _perUid[uid] = count - 1;
            else
                _perUid.Remove(uid);
        }
    }

    /// <summary>KMONITOR_IOW_DEREGISTER: clears bits; the registration goes when none is left.</summary>
    public int Deregister(DeviceFile file, int callerTid, KmonitorCmd cmd)
    {
        int pid = cmd.Pid;
        // A caller in the daemon's pid namespace (a readlink tells) names pids as the daemon does; only
        // one in another namespace needs its /proc status read for the translation.
        if (Namespaces.Inode(callerTid, "pid") is ulong ns && ns != Namespaces.OwnPidNamespace
            && ProcTaskStatus.TryRead(callerTid, out var caller) && caller.NamespaceDepth > 0)
            pid = ToDaemonPid(callerTid, caller, cmd.Pid) ?? 0;
        lock (file.Gate)
        {
            if (!file.ByTarget.TryGetValue(pid, out var registration) || registration.Removed)
                return Errno.EINVAL;
            int mask = registration.Mask & ~cmd.Type;
            if (mask == 0)
            {
                file.ByTarget.Remove(pid);
                if (Table.Remove(registration))
                    Retire(registration);
            }
            else
            {
                Table.Update(registration, mask, registration.Signal, registration.Monitor);
            }
        }
        Interlocked.Increment(ref Counters.Deregisters);
        return 0;
    }

    /// <summary>The last close of a file: everything it registered goes.</summary>
    public void Release(DeviceFile file)
    {
        var removed = new List<Registration>();
        MonitorProcess[] monitors;
        lock (file.Gate)
        {
            // Out of the table before out of the file's index, and the file out of the open files
            // last: the status report never shows a registration gone that can still be notified.
            file.Closed = true;
            foreach (var registration in file.ByTarget.Values)
            {
                if (Table.Remove(registration))
                    removed.Add(registration);
            }
            monitors = [.. file.Monitors.Values];
            file.ByTarget.Clear();
            file.Monitors.Clear();
            file.Callers.Clear();
        }
        _files.TryRemove(file.Handle, out _);
        foreach (var registration in removed)
            Retire(registration);
        foreach (var monitor in monitors)
        {
            Watcher.UnwatchMonitor(monitor);
            monitor.Dispose();
        }
    }

    /// <summary>
    /// Sends one notification; a monitor that has exited loses all its registrations (the kernel
    /// would never deliver to it again, and its pid may be reused).
    /// </summary>
    public void Notify(in Match match, int bit, int subjectPid, uint subjectUid)
    {
        int error;
        var monitor = match.Monitor;
        if (monitor.PidNamespaceDepth == 0)
        {
            error = SignalSender.Send(monitor, match.Signal, subjectPid, subjectUid, bit);
        }
        else
        {
            // si_pid as the monitor sees the task; a task it cannot see is not reported to it.
            int? local = subjectPid == match.Registration.Target
                ? match.Registration.TargetPidForMonitor
                : PidForMonitor(subjectPid, monitor);
            if (local is not int localPid)
            {
                Interlocked.Increment(ref Counters.DroppedInvisible);
                return;
            }
            error = SendInOtherNamespace(monitor, match.Signal, localPid, subjectUid, bit);
        }
        if (error == 0)
        {
            Interlocked.Increment(ref Counters.NotificationsSent);
            if (Log.IsEnabled(LogLevel.Debug))
                Log.Debug($"sent {KmonitorAbi.EventName(bit)} of {subjectPid} to {match.Monitor} as signal {match.Signal}");
        }
        else if (error == Errno.ESRCH)
        {
            Interlocked.Increment(ref Counters.DroppedMonitorGone);
            DropMonitor(match.Monitor);
        }
        else if (error == Errno.EAGAIN)
        {
            // The monitor does not collect its signals: count it and go on; nothing here ever waits for it.
            Interlocked.Increment(ref Counters.DroppedQueueFull);
            long dropped = match.Monitor.CountQueueFull();
            if (_queueFullLog.TryAcquire())
                Log.Warning($"{match.Monitor}: its queue of pending signals is full (RLIMIT_SIGPENDING); {dropped} of its notifications dropped so far");
        }
        else
        {
            Log.Error($"pidfd_send_signal to {match.Monitor} failed: {Errno.Describe(error)}");
        }
    }

    /// <summary>
    /// The task <paramref name="pid"/> ended at <paramref name="timestampNs"/>: every registration on
    /// it sends its exit notifications (ABORT first when a signal killed it) exactly once and leaves
    /// the table, so a later task with the same pid inherits nothing.
    /// </summary>
    /// <param name="boundTo">When given, only the registrations held by this process instance (a pid may
    /// already belong to another process when a late report comes).</param>
    public void EndTask(int pid, int? exitCode, ulong timestampNs, List<Match>? scratch = null, Exits.WatchedProcess? boundTo = null)
    {
        var taken = scratch ?? new List<Match>();
        taken.Clear();
        Table.TakeTarget(pid, timestampNs, taken, boundTo);
        if (taken.Count == 0)
            return;
        bool killed = exitCode is int code && TaskExitCode.IsKilledBySignal(code);
        // The signals go first: they are what the monitors wait for. Letting go of the pidfds comes
        // after, because it waits for the pidfd watcher, which this same exit has just woken.
        foreach (var match in taken)
        {
            var registration = match.Registration;
            ForgetInFile(registration);
            UncountForUid(registration.OwnerUid);
            if (!registration.TryClaimExit())
                continue;
            bool thread = registration.IsThreadTarget;
            int abortBit = thread ? KmonitorAbi.KMONITOR_THREAD_ABORT : KmonitorAbi.KMONITOR_PROCESS_ABORT;
            int exitBit = thread ? KmonitorAbi.KMONITOR_THREAD_EXIT : KmonitorAbi.KMONITOR_PROCESS_EXIT;
            if (killed && (match.Mask & abortBit) != 0)
                Notify(match, abortBit, pid, registration.TargetUid);
            if ((match.Mask & exitBit) != 0)
                Notify(match, exitBit, pid, registration.TargetUid);
        }
        foreach (var match in taken)
            ReleaseProcess(match.Registration);
        taken.Clear();
    }

    /// <summary>
    /// Whether a registration's target has ended: for a process, every one of its threads (its pidfd
    /// says so); for a thread, itself (gone from /proc, or dead).
    /// </summary>
    private static bool HasEnded(Registration registration, out int? exitCode)
    {
        int pid = registration.Target;
        exitCode = null;
        bool ended = registration.Process is { } process
            ? process.HasExited
            : !ProcTaskStatus.TryRead(pid, out var status) || status.HasExited;
        if (ended)
            exitCode = TaskExitCode.TryRead(pid);
        return ended;
    }

    /// <summary>A registration has left the table: let go of what it held. Called once, by whoever removed it.</summary>
    private void Retire(Registration registration)
    {
        UncountForUid(registration.OwnerUid);
        ReleaseProcess(registration);
    }

    private void ReleaseProcess(Registration registration)
    {
        if (registration.Process is { } process)
        {
            registration.Process = null;
            Watcher.Release(process);
        }
    }

    public void Dispose()
    {
        Watcher.Dispose();
        lock (_relays)
        {
            foreach (var relay in _relays.Values)
                relay.Dispose();
            _relays.Clear();
        }
    }

    private readonly Dictionary<ulong, SignalRelay> _relays = [];

    /// <summary>A relay has exited (its namespace ended, most likely): the next send starts a new one.</summary>
    private void ForgetRelay(SignalRelay relay)
    {
        lock (_relays)
        {
            if (_relays.TryGetValue(relay.PidNamespace, out var current) && current == relay)
                _relays.Remove(relay.PidNamespace);
        }
    }

    private static int? PidForMonitor(int tid, MonitorProcess monitor) =>
        ProcTaskStatus.PidAtDepth(tid, monitor.PidNamespaceDepth) is int local && Namespaces.IsVisibleIn(tid, monitor.PidNamespace, monitor.PidNamespaceDepth)
            ? local : null;

    /// <summary>
    /// A signal from the daemon would reach a monitor in another pid namespace with si_pid cleared by
    /// the kernel, so it goes through that namespace's relay (started on first use).
    /// </summary>
    private int SendInOtherNamespace(MonitorProcess monitor, int signal, int localPid, uint uid, int bit)
    {
        SignalRelay? relay;
        lock (_relays)
        {
            if (!_relays.TryGetValue(monitor.PidNamespace, out relay) && Options.RelayCommand is { } command)
            {
                try
                {
                    relay = SignalRelay.Start(command, monitor.Tgid, monitor.PidNamespace);
                    relay.Exited += ForgetRelay;
                    _relays[monitor.PidNamespace] = relay;
                }
                catch (KmonitorException e)
                {
                    Log.Error($"{e.Message}; {monitor}'s notifications carry si_pid 0");
                }
            }
        }
        if (relay is null)
            return SignalSender.Send(monitor, signal, localPid, uid, bit);
        int error = relay.Send(monitor, signal, localPid, uid, bit);
        if (error is SignalRelay.RelayGone or Errno.ECONNRESET)
        {
            // The relay ended (its namespace ended, or someone killed it): the next send starts a new one.
            lock (_relays)
                _relays.Remove(monitor.PidNamespace);
            relay.Dispose();
            if (!monitor.IsAlive)
                return Errno.ESRCH;
            Log.Warning($"the signal relay for {monitor}'s pid namespace ended while sending; a new one starts on the next notification");
            return 0; // it most likely went out before the relay was killed; never send it twice
        }
        return error;
    }

    /// <summary>
    /// After events were lost (a full socket buffer or ring): every registered target is checked, and
    /// the ones that have ended are reported now. Process targets are told by their pidfd, threads by
    /// /proc. Returns how many tasks it found ended.
    /// </summary>
    public int Resync(List<Match>? scratch = null)
    {
        var targets = Table.Targets();
        int ended = 0;
        foreach (var (pid, process) in targets)
        {
            bool gone = process is not null
                ? process.HasExited
                : !ProcTaskStatus.TryRead(pid, out var status) || status.HasExited;
            if (!gone)
                continue;
            ended++;
            EndTask(pid, TaskExitCode.TryRead(pid), RegistrationTable.Now, scratch, boundTo: process);
        }
        Interlocked.Increment(ref Counters.Resyncs);
        Interlocked.Add(ref Counters.ExitsFromResync, ended);
        return ended;
    }

    /// <summary>A monitor process has exited: everything it registered goes, and its pidfd closes.</summary>
    public void DropMonitor(MonitorProcess monitor)
    {
        var file = monitor.File;
        var dropped = new List<Registration>();
        var removed = new List<Registration>();
        lock (file.Gate)
        {
            foreach (var registration in file.ByTarget.Values)
            {
                if (registration.Monitor == monitor)
                    dropped.Add(registration);
            }
            // Out of the table while the file's index still holds them, as Release does.
            foreach (var registration in dropped)
            {
                if (Table.Remove(registration))
                    removed.Add(registration);
                file.ByTarget.Remove(registration.Target);
            }
            if (file.Monitors.TryGetValue(monitor.Tgid, out var current) && current == monitor)
                file.Monitors.Remove(monitor.Tgid);
            foreach (var (tid, caller) in file.Callers)
            {
                if (caller.Monitor == monitor)
                    file.Callers.Remove(tid); // allowed while enumerating a Dictionary since .NET Core 3.0
            }
        }
        foreach (var registration in removed)
            Retire(registration);
        Watcher.UnwatchMonitor(monitor);
        monitor.Dispose();
        if (dropped.Count > 0 && Log.IsEnabled(LogLevel.Debug))
            Log.Debug($"{monitor} has exited: dropped its {dropped.Count} registrations");
    }

    private static void ForgetInFile(Registration registration)
    {
        var file = registration.File;
        lock (file.Gate)
        {
            if (file.ByTarget.TryGetValue(registration.Target, out var current) && current == registration)
                file.ByTarget.Remove(registration.Target);
        }
    }

    /// <summary>The monitor for process <paramref name="tgid"/> of this file, opening its pidfd the first time. Holds file.Gate.</summary>
    private int GetMonitor(DeviceFile file, int tgid, int namespaceDepth, out MonitorProcess monitor)
    {
        if (file.Monitors.TryGetValue(tgid, out var cached))
        {
            if (cached.IsAlive)
            {
                monitor = cached;
                return 0;
            }
            DropMonitor(cached); // a dead process whose pid came back: the new one inherits nothing
        }
        int error = MonitorProcess.TryOpen(tgid, file, namespaceDepth, out var opened);
        if (error != 0)
        {
            monitor = null!;
            return error;
        }
        monitor = opened!;
        file.Monitors[tgid] = monitor;
        Watcher.WatchMonitor(monitor);
        return 0;
    }
}

/// <summary>One monitor process as the status report shows it.</summary>
public readonly record struct MonitorSummary(int Pid, ulong File, int Registrations, long DroppedQueueFull);
