using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Registrations;

namespace Kmonitor.Records;

/// <summary>
/// Queues records on open files, and wakes who waits for them: a read parked on the file (answered
/// here, with the records it takes) and the latest poll (through <see cref="PollWakeup"/>, which the
/// front end sets to its session's poll notification). Every wake-up happens after the queue's lock
/// is left, because each one is a write to the kernel.
/// </summary>
public sealed class RecordSender(Counters counters)
{
    /// <summary>Sends a poll notification for a kernel poll handle; set by the front end once its session runs.</summary>
    public Action<ulong>? PollWakeup { get; set; }

    /// <summary>Queues <paramref name="record"/> on <paramref name="file"/> (or counts it dropped when the file's queue is full).</summary>
    public void Send(DeviceFile file, in KmonitorEventRecord record)
    {
        var wakeup = file.Records.Append(record, out bool queued);
        if (!queued)
        {
            Interlocked.Increment(ref counters.RecordsDropped);
            return;
        }
        Interlocked.Increment(ref counters.RecordsQueued);
        wakeup.DeliverRead();
        if (wakeup.PollHandle is ulong handle)
            PollWakeup?.Invoke(handle);
    }
}
