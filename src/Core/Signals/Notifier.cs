using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Interop;
using Kmonitor.Procfs;
using Kmonitor.Records;
using Kmonitor.Registrations;

namespace Kmonitor.Signals;

/// <summary>
/// Sends notifications, on one thread at a time (whichever holds the dispatcher's lock: the
/// listener's for a quick burst, the dispatcher's otherwise): for each matched registration (or
/// subscription) either one queued signal, with si_pid as the monitor sees the task, or, when its
/// signal is 0, one record queued on its file (<see cref="RecordSender"/>). It owns the delivery
/// (and with it the relay pool) and decides what a failed send means: a monitor that has exited is
/// handed to <paramref name="monitorGone"/> (the kernel would never deliver to it again, and its
/// pid may be reused); a full signal queue is counted and logged, never waited for.
/// </summary>
public sealed class Notifier(ISignalDelivery delivery, RecordSender records, IProcReader proc, Counters counters,
    Action<MonitorProcess> monitorGone, TimeProvider? time = null)
    : IDisposable
{
    private readonly RateLimiter _queueFullLog = new(TimeSpan.FromSeconds(5), time);
    private volatile bool _crossedNamespaces;

    /// <summary>
    /// Whether a notification has gone to a monitor in another pid namespace: its pids are
    /// translated through /proc and its signals go through a relay (a round trip to another
    /// process, started on first use), too slow for the listener's thread, which from then on
    /// leaves every event to the dispatcher thread.
    /// </summary>
    public bool HasCrossedNamespaces => _crossedNamespaces;

    /// <summary>Sends one notification to a matched registration: to the monitor that made it, about its target or a task of it.</summary>
    public void Notify(in Match match, in Notification notification)
    {
        var registration = match.Registration;
        int? knownLocalPid = notification.Pid == registration.Target ? registration.TargetPidForMonitor : null;
        if (match.Signal != SubscriptionAbi.RecordsInsteadOfSignal)
        {
            SendSignal(match.Monitor, match.Signal, notification, knownLocalPid);
            return;
        }
        // The name is the target's: read when first needed and at each exec, kept for its exit.
        if (notification.Comm is null && (registration.Comm is null || notification.Bit == KmonitorAbi.KMONITOR_PROCESS_EXEC))
            registration.Comm = proc.ReadComm(registration.Target) ?? registration.Comm;
        var named = notification.Comm is null ? notification with { Comm = registration.Comm } : notification;
        QueueRecord(registration.File, match.Monitor, (uint)registration.TargetPidForMonitor, named, knownLocalPid);
    }

    /// <summary>
    /// Sends one notification to <paramref name="monitor"/> with <paramref name="signal"/>, or queues it
    /// as a record on <paramref name="file"/> when the signal is 0; <paramref name="watch"/> is what
    /// the record's watch field names (a subscription's id).
    /// </summary>
    public void Notify(DeviceFile file, MonitorProcess monitor, int signal, uint watch, in Notification notification)
    {
        if (signal != SubscriptionAbi.RecordsInsteadOfSignal)
            SendSignal(monitor, signal, notification, knownLocalPid: null);
        else
            QueueRecord(file, monitor, watch, notification, knownLocalPid: null);
    }

    private void QueueRecord(DeviceFile file, MonitorProcess monitor, uint watch, in Notification n, int? knownLocalPid)
    {
        int pid = n.Pid, tgid = n.Tgid, ppid = n.Ppid;
        if (monitor.PidNamespaceDepth != 0)
        {
            _crossedNamespaces = true;
            // Pids as the reader sees them; a task it cannot see is not reported to it, and a parent
            // it cannot see (its namespace's init, seen from inside, has none) reads as 0.
            if ((knownLocalPid ?? SeenBy(monitor, pid)) is not int localPid)
            {
                Interlocked.Increment(ref counters.DroppedInvisible);
                return;
            }
            tgid = tgid == pid ? localPid : SeenBy(monitor, tgid) ?? 0;
            ppid = ppid == 0 ? 0 : SeenBy(monitor, ppid) ?? 0;
            pid = localPid;
        }
        var record = new KmonitorEventRecord
        {
            size = KmonitorEventRecord.Size,
            type = (ushort)n.Bit,
            time_ns = n.TimeNs,
            pid = pid,
            tgid = tgid,
            ppid = ppid,
            uid = n.Uid,
            status = n.Status,
            watch = watch,
        };
        if (n.Comm is not null)
        {
            // Encoded on the stack: a byte[] per record would be garbage at every event a reader gets.
            Span<byte> comm = stackalloc byte[KmonitorEventRecord.CommBytes];
            System.Text.Unicode.Utf8.FromUtf16(n.Comm, comm, out _, out int written);
            record.SetComm(comm[..written]);
        }
        records.Send(file, record);
        if (Log.IsEnabled(LogLevel.Debug))
            Log.Debug($"queued {KmonitorAbi.EventName(n.Bit)} of {n.Pid} for {monitor} on {file}");
    }

    private int? SeenBy(MonitorProcess monitor, int pid) => proc.PidSeenFrom(pid, monitor.PidNamespace, monitor.PidNamespaceDepth);

    private void SendSignal(MonitorProcess monitor, int signal, in Notification n, int? knownLocalPid)
    {
        int error;
        if (monitor.PidNamespaceDepth == 0)
        {
            error = delivery.Send(monitor, signal, n.Pid, n.Uid, n.Bit);
        }
        else
        {
            _crossedNamespaces = true;
            // si_pid as the monitor sees the task; a task it cannot see is not reported to it.
            if ((knownLocalPid ?? SeenBy(monitor, n.Pid)) is not int localPid)
            {
                Interlocked.Increment(ref counters.DroppedInvisible);
                return;
            }
            error = delivery.SendInOtherNamespace(monitor, signal, localPid, n.Uid, n.Bit);
        }
        if (error == 0)
        {
            Interlocked.Increment(ref counters.NotificationsSent);
            if (Log.IsEnabled(LogLevel.Debug))
                Log.Debug($"sent {KmonitorAbi.EventName(n.Bit)} of {n.Pid} to {monitor} as signal {signal}");
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
