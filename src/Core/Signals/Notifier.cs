using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Interop;
using Kmonitor.Procfs;
using Kmonitor.Registrations;

namespace Kmonitor.Signals;

/// <summary>
/// Sends notifications, on the dispatcher's thread only: one queued signal per matched
/// registration, with si_pid as the monitor sees the task. It owns the delivery (and with it the
/// relay pool) and decides what a failed send means: a monitor that has exited is handed to
/// <paramref name="monitorGone"/> (the kernel would never deliver to it again, and its pid may be
/// reused); a full signal queue is counted and logged, never waited for.
/// </summary>
public sealed class Notifier(ISignalDelivery delivery, IProcReader proc, Counters counters, Action<MonitorProcess> monitorGone, TimeProvider? time = null)
    : IDisposable
{
    private readonly RateLimiter _queueFullLog = new(TimeSpan.FromSeconds(5), time);

    /// <summary>Sends one notification of event <paramref name="bit"/> about <paramref name="subjectPid"/>.</summary>
    public void Notify(in Match match, int bit, int subjectPid, uint subjectUid)
    {
        int error;
        var monitor = match.Monitor;
        if (monitor.PidNamespaceDepth == 0)
        {
            error = delivery.Send(monitor, match.Signal, subjectPid, subjectUid, bit);
        }
        else
        {
            // si_pid as the monitor sees the task; a task it cannot see is not reported to it.
            int? local = subjectPid == match.Registration.Target
                ? match.Registration.TargetPidForMonitor
                : proc.PidSeenFrom(subjectPid, monitor.PidNamespace, monitor.PidNamespaceDepth);
            if (local is not int localPid)
            {
                Interlocked.Increment(ref counters.DroppedInvisible);
                return;
            }
            error = delivery.SendInOtherNamespace(monitor, match.Signal, localPid, subjectUid, bit);
        }
        if (error == 0)
        {
            Interlocked.Increment(ref counters.NotificationsSent);
            if (Log.IsEnabled(LogLevel.Debug))
                Log.Debug($"sent {KmonitorAbi.EventName(bit)} of {subjectPid} to {monitor} as signal {match.Signal}");
        }
        else if (error == Errno.ESRCH)
        {
            Interlocked.Increment(ref counters.DroppedMonitorGone);
            monitorGone(monitor);
        }
        else if (error == Errno.EAGAIN)
        {
            // The monitor does not collect its signals: count it and go on; nothing here ever waits for it.
            Interlocked.Increment(ref counters.DroppedQueueFull);
            long dropped = monitor.CountQueueFull();
            if (_queueFullLog.TryAcquire())
                Log.Warning($"{monitor}: its queue of pending signals is full (RLIMIT_SIGPENDING); {dropped} of its notifications dropped so far");
        }
        else
        {
            Log.Error($"pidfd_send_signal to {monitor} failed: {Errno.Describe(error)}");
        }
    }

    public void Dispose() => delivery.Dispose();
}
