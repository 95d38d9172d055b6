using Kmonitor.Abi;

namespace Kmonitor.Records;

/// <summary>
/// The records queued on one open file, and the reads and poll waiting for them. The dispatcher
/// appends; the request thread reads. Bounded: when full, new records are dropped and counted, and
/// as soon as a read makes room one KMONITOR_EVENT_LOST record carrying the count is queued before
/// any later record. Sequence numbers are given at queueing, so a reader sees 1, 2, 3, ... with no
/// gap (LOST records count; dropped ones never had a number). Nothing here blocks, and no system
/// call is made under the lock: what must be woken is returned to the caller.
/// </summary>
public sealed class RecordQueue(int capacity)
{
    private readonly object _lock = new();
    private readonly Queue<KmonitorEventRecord> _records = new();
    private readonly LinkedList<IRecordWaiter> _waiters = new();
    private uint _nextSeq = 1;
    private uint _dropped;
    private ulong? _pollHandle; // the next record notifies it (once: the kernel polls again after a wake-up)

    /// <summary>
    /// The last handle the kernel gave (one per open file, so it never changes): what a restart
    /// hands over and re-arms. A poller it wakes needlessly polls again and finds nothing, as poll(2) allows.
    /// </summary>
    private ulong? _knownPollHandle;
    private bool _wakeDue; // AppendQuietly said so, and TakeWakeup has not run since

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>Records queued now.</summary>
    public int Count { get { lock (_lock) return _records.Count; } }

    /// <summary>Records dropped since the last LOST record was queued.</summary>
    public uint Dropped { get { lock (_lock) return _dropped; } }

    /// <summary>
    /// Queues <paramref name="record"/> (its seq is set here), or counts it as dropped when the
    /// queue is full. Returns the waiting read it completes, if any, and the poll handle to notify.
    /// </summary>
    public Wakeup Append(KmonitorEventRecord record) => Append(record, out _);

    /// <inheritdoc cref="Append(KmonitorEventRecord)"/>
    /// <param name="queued">False when the record was dropped because the queue was full.</param>
    public Wakeup Append(KmonitorEventRecord record, out bool queued)
    {
        lock (_lock)
        {
            queued = TryEnqueue(ref record);
            return queued ? TakeWakeups() : default;
        }
    }

    /// <summary>Numbers and queues the record, or counts it dropped when the queue is full; under the lock.</summary>
    private bool TryEnqueue(ref KmonitorEventRecord record)
    {
        if (_records.Count >= Capacity)
        {
            _dropped++;
            return false;
        }
        record.seq = _nextSeq++;
        _records.Enqueue(record);
        return true;
    }

    /// <summary>
    /// Queues <paramref name="record"/> as <see cref="Append(KmonitorEventRecord, out bool)"/> does,
    /// but wakes nobody yet: returns true when a read or a poll waits for it and this is the first
    /// such record since the last <see cref="TakeWakeup"/>, which the caller then calls once, at the
    /// end of its batch, so one answer carries every record of the batch.
    /// </summary>
    public bool AppendQuietly(KmonitorEventRecord record, out bool queued)
    {
        lock (_lock)
        {
            queued = TryEnqueue(ref record);
            if (!queued || _wakeDue || (_waiters.Count == 0 && _pollHandle is null))
                return false;
            _wakeDue = true;
            return true;
        }
    }

    /// <summary>
    /// Who the records queued by <see cref="AppendQuietly"/> wake: the first parked read, with as many
    /// as it takes, and the poll handle; nobody if a read took them all meanwhile.
    /// </summary>
    public Wakeup TakeWakeup()
    {
        lock (_lock)
        {
            _wakeDue = false;
            return _records.Count == 0 ? default : TakeWakeups();
        }
    }

    /// <summary>
    /// Copies as many whole records as fit into <paramref name="destination"/> and returns the bytes
    /// written, 0 when none is queued.
    /// </summary>
    public int Read(Span<byte> destination)
    {
        lock (_lock)
            return DequeueInto(destination);
    }

    /// <summary>
    /// Reads into a buffer of the waiter's size if a record is queued (returns the bytes, and the
    /// caller answers at once); otherwise parks the waiter until <see cref="Append"/> completes it
    /// (returns null).
    /// </summary>
    public byte[]? ReadOrWait(IRecordWaiter waiter)
    {
        lock (_lock)
        {
            if (_records.Count == 0)
            {
                _waiters.AddLast(waiter);
                return null;
            }
            var buffer = new byte[RoundDown(waiter.BufferBytes)];
            int n = DequeueInto(buffer);
            return n == buffer.Length ? buffer : buffer[..n];
        }
    }

    /// <summary>Takes a parked waiter back (an interrupted read); false when it was answered already.</summary>
    /// <summary>For a handover: the queued records (as read(2) gives them), the next sequence number and the drops not yet reported.</summary>
    public (byte[] Records, uint NextSeq, uint Dropped, ulong? PollHandle) Snapshot()
    {
        lock (_lock)
        {
            var bytes = new byte[_records.Count * KmonitorEventRecord.Size];
            int i = 0;
            foreach (var record in _records)
                record.Write(bytes.AsSpan(i++ * KmonitorEventRecord.Size));
            return (bytes, _nextSeq, _dropped, _knownPollHandle);
        }
    }

    /// <summary>
    /// After a takeover: the previous instance's queue, numbered on from where it stopped, and the
    /// poll handle it was to notify (the kernel keeps the file's poller asleep until that notify).
    /// </summary>
    public void Restore(ReadOnlySpan<byte> records, uint nextSeq, uint dropped, ulong? pollHandle)
    {
        lock (_lock)
        {
            _pollHandle = _knownPollHandle = pollHandle;
            _records.Clear();
            for (int i = 0; i + KmonitorEventRecord.Size <= records.Length; i += KmonitorEventRecord.Size)
                _records.Enqueue(KmonitorEventRecord.Read(records[i..]));
            _nextSeq = nextSeq;
            _dropped = dropped;
        }
    }

    public bool Cancel(IRecordWaiter waiter)
    {
        lock (_lock)
            return _waiters.Remove(waiter);
    }

    /// <summary>
    /// Remembers the latest poll handle (even when records are queued now: an edge-triggered waiter
    /// must be woken by the next record too) and says whether the file is readable, and whether the
    /// handle is new (what a restart must hand over changed).
    /// </summary>
    public bool Poll(ulong? handle, out bool handleChanged)
    {
        lock (_lock)
        {
            handleChanged = handle is not null && _knownPollHandle != handle;
            if (handle is not null)
                _pollHandle = _knownPollHandle = handle;
            return _records.Count > 0;
        }
    }

    /// <summary>Who a queued record wakes: a parked read with its answer, and the poll handle to notify.</summary>
    public readonly record struct Wakeup(IRecordWaiter? Waiter, byte[]? Records, ulong? PollHandle)
    {
        /// <summary>Answers the read; the caller does this outside every lock.</summary>
        public void DeliverRead()
        {
            if (Waiter is not null)
                Waiter.Deliver(Records);
        }
    }

    private Wakeup TakeWakeups()
    {
        IRecordWaiter? waiter = null;
        byte[]? records = null;
        if (_waiters.First is { } first)
        {
            _waiters.RemoveFirst();
            waiter = first.Value;
            var buffer = new byte[RoundDown(waiter.BufferBytes)];
            int n = DequeueInto(buffer);
            records = n == buffer.Length ? buffer : buffer[..n];
        }
        // A poll handle is notified once: the kernel polls again (with a handle) after it wakes.
        ulong? handle = _pollHandle;
        _pollHandle = null;
        return new Wakeup(waiter, records, handle);
    }

    private int DequeueInto(Span<byte> destination)
    {
        int written = 0;
        while (_records.Count > 0 && destination.Length - written >= KmonitorEventRecord.Size)
        {
            _records.Dequeue().Write(destination[written..]);
            written += KmonitorEventRecord.Size;
            QueueLostIfRoom(); // at the tail, so after every record queued before the drops
        }
        return written;
    }

    /// <summary>After a read made room: the count of what was dropped, as one record in its place.</summary>
    private void QueueLostIfRoom()
    {
        if (_dropped == 0 || _records.Count >= Capacity)
            return;
        var lost = new KmonitorEventRecord
        {
            size = KmonitorEventRecord.Size,
            type = SubscriptionAbi.KMONITOR_EVENT_LOST,
            seq = _nextSeq++,
            status = (int)Math.Min(_dropped, int.MaxValue),
        };
        _records.Enqueue(lost);
        _dropped = 0;
    }

    private static int RoundDown(int bytes) => bytes / KmonitorEventRecord.Size * KmonitorEventRecord.Size;
}
