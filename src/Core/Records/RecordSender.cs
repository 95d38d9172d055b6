using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Registrations;

namespace Kmonitor.Records;

/// <summary>
/// Queues records on open files, and wakes who waits for them: a read parked on the file (answered
/// here, with the records it takes) and the latest poll (through <see cref="PollWakeup"/>, which the
/// front end sets to its session's poll notification). Every wake-up happens after the queue's lock
/// is left, because each one is a write to the kernel. Between <see cref="BeginBatch"/> and
/// <see cref="EndBatch"/> (the dispatcher's batches) the wake-ups wait for the end, so one answer
/// carries every record the batch queued on the file instead of one FUSE round trip per record.
/// Used by one thread at a time: the one that holds the dispatcher's lock.
/// </summary>
public sealed class RecordSender(Counters counters)
{
    private readonly List<DeviceFile> _wakeAtEnd = new();
    private bool _batching;

    /// <summary>From now until <see cref="EndBatch"/>, records are queued and their readers woken only at the end.</summary>
    public void BeginBatch() => _batching = true;

    /// <summary>Wakes the readers of every file the batch queued records on, once each.</summary>
    public void EndBatch()
    {
        _batching = false;
        if (_wakeAtEnd.Count == 0)
            return;
        foreach (var file in _wakeAtEnd)
            Wake(file.Records.TakeWakeup());
        _wakeAtEnd.Clear();
    }

    /// <summary>Sends a poll notification for a kernel poll handle; set by the front end once its session runs.</summary>
    public Action<ulong>? PollWakeup { get; set; }

    /// <summary>Queues <paramref name="record"/> on <paramref name="file"/> (or counts it dropped when the file's queue is full).</summary>
    public void Send(DeviceFile file, in KmonitorEventRecord record)
    {
        bool queued;
        if (_batching)
        {
            if (file.Records.AppendQuietly(record, out queued))
                _wakeAtEnd.Add(file);
        }
        else
        {
            var wakeup = file.Records.Append(record, out queued);
            if (queued)
                Wake(wakeup);
        }
        if (queued)
            Interlocked.Increment(ref counters.RecordsQueued);
        else
            Interlocked.Increment(ref counters.RecordsDropped);
    }

    private void Wake(in RecordQueue.Wakeup wakeup)
    {
        wakeup.DeliverRead();
        if (wakeup.PollHandle is ulong handle)
            PollWakeup?.Invoke(handle);
    }
}
