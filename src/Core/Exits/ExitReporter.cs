using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Procfs;
using Kmonitor.Registrations;
using Kmonitor.Signals;

namespace Kmonitor.Exits;

/// <summary>
/// Ends registrations whose target has ended, and reports those exits: exactly one exit per
/// registration, its ABORT first when a signal killed the target, then the registration leaves the
/// table, its file and its quota, and lets go of its pidfd. Reporting (sending) happens only under
/// the dispatcher's lock (its thread, or the listener's for a quick burst); taking an ended target
/// out of the table may happen anywhere.
/// </summary>
public sealed class ExitReporter(RegistrationTable table, Quotas quotas, ProcessWatcher watcher, Notifier notifier, IProcReader proc, Counters counters)
{
    private readonly List<Match> _taken = new(64); // the dispatcher's scratch list

    /// <summary>
    /// The task <paramref name="pid"/> ended at <paramref name="timestampNs"/>: every registration on
    /// it sends its exit notifications and leaves the table, so a later task with the same pid
    /// inherits nothing. Under the dispatch lock only.
    /// </summary>
    /// <param name="boundTo">When given, only the registrations held by this process instance (a pid may
    /// already belong to another process when a late report comes).</param>
    public void EndTask(int pid, int? exitCode, ulong timestampNs, WatchedProcess? boundTo = null)
    {
        _taken.Clear();
        Take(pid, timestampNs, _taken, boundTo);
        Report(pid, exitCode, timestampNs, _taken);
        _taken.Clear();
    }

    /// <summary>
    /// For REGISTER: when the registration's target has already ended (the kernel's exit event may
    /// have gone by before the registration was made), takes every registration on it out of the
    /// table now and returns them, for the dispatcher to report (<see cref="Report(EndedTask)"/>).
    /// </summary>
    public EndedTask? TakeIfEnded(Registration registration)
    {
        if (!HasEnded(registration, out int? exitCode))
            return null;
        var taken = new List<Match>();
        Take(registration.Target, RegistrationTable.Now, taken, boundTo: null);
        return taken.Count == 0 ? null : new EndedTask(registration.Target, exitCode, taken);
    }

    /// <summary>
    /// For a takeover: the target <paramref name="pid"/> ended while no daemon ran (it is gone, or its pid
    /// is another process's now, so its state cannot be asked). Takes the registrations made before
    /// <paramref name="restoredAtNs"/> out of the table, for the dispatcher to report.
    /// </summary>
    public EndedTask? TakeEnded(int pid, long restoredAtNs)
    {
        var taken = new List<Match>();
        Take(pid, (ulong)restoredAtNs, taken, boundTo: null);
        return taken.Count == 0 ? null : new EndedTask(pid, null, taken);
    }

    /// <summary>Reports what a REGISTER took (under the dispatch lock only).</summary>
    public void Report(EndedTask ended) => Report(ended.Pid, ended.ExitCode, RegistrationTable.Now, ended.Taken);

    private void Take(int pid, ulong timestampNs, List<Match> taken, WatchedProcess? boundTo)
    {
        table.TakeTarget(pid, timestampNs, taken, boundTo);
        foreach (var match in taken)
        {
            match.Registration.File.Forget(match.Registration);
            quotas.Give(match.Registration.OwnerUid);
        }
    }

    private void Report(int pid, int? exitCode, ulong timestampNs, List<Match> taken)
    {
        if (taken.Count == 0)
            return;
        bool killed = exitCode is int code && TaskExitCode.IsKilledBySignal(code);
        // A record's time: the event's, or now for an exit found without one (a late report, a REGISTER).
        ulong reportedAt = timestampNs == RegistrationTable.Now ? (ulong)table.NowNs() : timestampNs;
        // The signals go first: they are what the monitors wait for. Letting go of the pidfds comes
        // after, because it waits for the pidfd watcher, which this same exit has just woken.
        foreach (var match in taken)
        {
            var registration = match.Registration;
            if (!registration.TryClaimExit())
                continue;
            bool thread = registration.IsThreadTarget;
            int abortBit = thread ? KmonitorAbi.KMONITOR_THREAD_ABORT : KmonitorAbi.KMONITOR_PROCESS_ABORT;
            int exitBit = thread ? KmonitorAbi.KMONITOR_THREAD_EXIT : KmonitorAbi.KMONITOR_PROCESS_EXIT;
            var exit = new Notification(exitBit, pid, registration.TargetTgid, 0, registration.TargetUid, exitCode ?? 0, reportedAt);
            if (killed && (match.Mask & abortBit) != 0)
                notifier.Notify(match, exit with { Bit = abortBit });
            if ((match.Mask & exitBit) != 0)
                notifier.Notify(match, exit);
        }
        foreach (var match in taken)
            ReleaseProcess(match.Registration);
    }

    /// <summary>
    /// Whether a registration's target has ended: for a process, every one of its threads (its pidfd
    /// says so); for a thread, itself (gone from /proc, or dead).
    /// </summary>
    private bool HasEnded(Registration registration, out int? exitCode)
    {
        int pid = registration.Target;
        exitCode = null;
        bool ended = registration.Process is { } process
            ? process.HasExited
            : !proc.TryReadStatus(pid, out var status) || status.HasExited;
        if (ended)
            exitCode = proc.ExitCode(pid);
        return ended;
    }

    /// <summary>
    /// After events were lost (a full socket buffer or ring): every registered target is checked, and
    /// the ones that have ended are reported now. Process targets are told by their pidfd, threads by
    /// /proc. Returns how many tasks it found ended. Under the dispatch lock only.
    /// </summary>
    public int Resync()
    {
        var targets = table.Targets();
        int ended = 0;
        foreach (var (pid, process) in targets)
        {
            bool gone = process is not null
                ? process.HasExited
                : !proc.TryReadStatus(pid, out var status) || status.HasExited;
            if (!gone)
                continue;
            ended++;
            EndTask(pid, proc.ExitCode(pid), RegistrationTable.Now, boundTo: process);
        }
        Interlocked.Increment(ref counters.Resyncs);
        Interlocked.Add(ref counters.ExitsFromResync, ended);
        return ended;
    }

    /// <summary>
    /// The pidfd watcher saw a process end: if the netlink path has not reported it (its events were
    /// lost), report it now, with the exit code /proc still has. Under the dispatch lock only.
    /// </summary>
    public void ProcessGone(WatchedProcess process)
    {
        if (!table.HasTarget(process.Tgid))
            return;
        int before = table.Count;
        EndTask(process.Tgid, proc.ExitCode(process.Tgid), RegistrationTable.Now, boundTo: process);
        if (table.Count != before)
            Interlocked.Increment(ref counters.ExitsFromPidfd);
    }

    /// <summary>
    /// A registration has left the table some other way (DEREGISTER, close, a monitor gone): give back
    /// its quota and its pidfd. Called once, by whoever removed it, with no file's lock held.
    /// </summary>
    public void Retire(Registration registration)
    {
        quotas.Give(registration.OwnerUid);
        ReleaseProcess(registration);
    }

    private void ReleaseProcess(Registration registration)
    {
        if (registration.Process is { } process)
        {
            registration.Process = null;
            watcher.Release(process);
        }
    }
}

/// <summary>What a REGISTER took out of the table because its target had already ended, for the dispatcher to report.</summary>
public sealed record EndedTask(int Pid, int? ExitCode, List<Match> Taken);
