namespace Kmonitor.Diagnostics;

/// <summary>
/// What the engine has done since it started. Written with Interlocked by the thread that does
/// the work, read by anyone.
/// </summary>
public sealed class Counters
{
    public long EventsReceived;
    public long EventsMatched;
    public long NotificationsSent;
    public long DroppedNoBuffers;        // ENOBUFS from the netlink socket: the kernel dropped events
    public long DroppedRingFull;         // events the listener could not put into a full ring
    public long DroppedQueueFull;        // EAGAIN from pidfd_send_signal: the monitor's signal queue is full
    public long DroppedMonitorGone;      // ESRCH from pidfd_send_signal: the monitor has exited
    public long Registers;
    public long Deregisters;

    public override string ToString() =>
        $"events received {Interlocked.Read(ref EventsReceived)}, matched {Interlocked.Read(ref EventsMatched)}, " +
        $"notifications sent {Interlocked.Read(ref NotificationsSent)}, dropped: ENOBUFS {Interlocked.Read(ref DroppedNoBuffers)}, " +
        $"ring full {Interlocked.Read(ref DroppedRingFull)}, EAGAIN {Interlocked.Read(ref DroppedQueueFull)}, " +
        $"ESRCH {Interlocked.Read(ref DroppedMonitorGone)}";
}
