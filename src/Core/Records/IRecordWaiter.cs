namespace Kmonitor.Records;

/// <summary>
/// A blocked read(2) parked on a file's <see cref="RecordQueue"/>: answered later, from the thread
/// that queues the next record, with as many whole records as fit in <see cref="BufferBytes"/>.
/// </summary>
public interface IRecordWaiter
{
    /// <summary>The size the reader asked for (at least one record).</summary>
    int BufferBytes { get; }

    /// <summary>Answers the read with <paramref name="records"/>; called outside the queue's lock.</summary>
    void Deliver(ReadOnlySpan<byte> records);
}
