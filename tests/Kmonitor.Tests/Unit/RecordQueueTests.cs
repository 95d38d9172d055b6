using Kmonitor.Abi;
using Kmonitor.Records;

namespace Kmonitor.Tests.Unit;

public class RecordQueueTests
{
    private sealed class Waiter(int bytes) : IRecordWaiter
    {
        public int BufferBytes => bytes;
        public List<KmonitorEventRecord> Got { get; } = [];
        public int Deliveries { get; private set; }

        public void Deliver(ReadOnlySpan<byte> records)
        {
            Deliveries++;
            Got.AddRange(Decode(records));
        }
    }

    private static KmonitorEventRecord Exit(int pid) => new() { size = KmonitorEventRecord.Size, type = KmonitorAbi.KMONITOR_PROCESS_EXIT, pid = pid };

    private static List<KmonitorEventRecord> Decode(ReadOnlySpan<byte> bytes)
    {
        Assert.Equal(0, bytes.Length % KmonitorEventRecord.Size);
        var records = new List<KmonitorEventRecord>();
        for (int at = 0; at < bytes.Length; at += KmonitorEventRecord.Size)
            records.Add(KmonitorEventRecord.Read(bytes[at..]));
        return records;
    }

    private static List<KmonitorEventRecord> ReadAll(RecordQueue queue, int bytes = 64 * 1024)
    {
        var buffer = new byte[bytes];
        return Decode(buffer.AsSpan(0, queue.Read(buffer)));
    }

    [Fact]
    public void Records_come_out_whole_in_order_numbered_from_1()
    {
        var queue = new RecordQueue(16);
        for (int pid = 100; pid < 105; pid++)
            queue.Append(Exit(pid));
        var buffer = new byte[3 * 64 + 63]; // room for three whole records, not four
        var first = Decode(buffer.AsSpan(0, queue.Read(buffer)));
        Assert.Equal([100, 101, 102], first.Select(r => r.pid));
        Assert.Equal([1u, 2u, 3u], first.Select(r => r.seq));
        Assert.Equal([103, 104], ReadAll(queue).Select(r => r.pid));
        Assert.Equal(0, queue.Read(buffer));
    }

    [Fact]
    public void A_full_queue_drops_and_counts_then_one_LOST_record_comes_before_later_ones_with_no_seq_gap()
    {
        var queue = new RecordQueue(4);
        for (int pid = 1; pid <= 10; pid++)
            queue.Append(Exit(pid)); // 1..4 queued, 5..10 dropped
        Assert.Equal(6u, queue.Dropped);
        var buffer = new byte[64];
        Assert.Equal(1, Decode(buffer.AsSpan(0, queue.Read(buffer)))[0].pid); // makes room: LOST goes in
        queue.Append(Exit(11)); // the LOST record took the room: full again, so 11 is dropped too
        Assert.Equal(1u, queue.Dropped);
        var rest = ReadAll(queue); // room again: the count of 11 follows as a second LOST
        Assert.Equal([2, 3, 4, 0, 0], rest.Select(r => r.pid));
        Assert.Equal([6, 1], rest.Skip(3).Select(r => r.status));
        Assert.All(rest.Skip(3), r => Assert.Equal(SubscriptionAbi.KMONITOR_EVENT_LOST, r.type));
        Assert.Equal([2u, 3u, 4u, 5u, 6u], rest.Select(r => r.seq));
        queue.Append(Exit(12));
        Assert.Equal([(12, 7u)], ReadAll(queue).Select(r => (r.pid, r.seq)));
        Assert.Equal(0u, queue.Dropped);
    }

    [Fact]
    public void LOST_waits_for_room_when_the_reader_empties_nothing()
    {
        var queue = new RecordQueue(2);
        queue.Append(Exit(1));
        queue.Append(Exit(2));
        queue.Append(Exit(3));
        Assert.Equal(0, queue.Read(new byte[10])); // too small for a record: nothing moves
        Assert.Equal(2, queue.Count);
        Assert.Equal(1u, queue.Dropped);
    }

    [Fact]
    public void A_parked_read_is_answered_by_the_next_record_and_only_once()
    {
        var queue = new RecordQueue(8);
        var waiter = new Waiter(128);
        Assert.Null(queue.ReadOrWait(waiter));
        var wakeup = queue.Append(Exit(7));
        Assert.Same(waiter, wakeup.Waiter);
        wakeup.DeliverRead();
        Assert.Equal([7], waiter.Got.Select(r => r.pid));
        Assert.Null(queue.Append(Exit(8)).Waiter); // answered: the next record stays queued
        Assert.Equal(1, waiter.Deliveries);
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void A_read_with_records_queued_is_answered_at_once_in_whole_records()
    {
        var queue = new RecordQueue(8);
        queue.Append(Exit(1));
        queue.Append(Exit(2));
        var answer = queue.ReadOrWait(new Waiter(100));
        Assert.NotNull(answer);
        Assert.Equal([1], Decode(answer).Select(r => r.pid));
    }

    [Fact]
    public void An_interrupted_read_is_taken_back_and_a_record_then_stays_queued()
    {
        var queue = new RecordQueue(8);
        var waiter = new Waiter(64);
        Assert.Null(queue.ReadOrWait(waiter));
        Assert.True(queue.Cancel(waiter));
        Assert.False(queue.Cancel(waiter));
        Assert.Null(queue.Append(Exit(1)).Waiter);
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void The_latest_poll_handle_is_notified_by_the_next_record_once_even_when_readable_at_poll()
    {
        var queue = new RecordQueue(8);
        Assert.False(queue.Poll(5, out bool changed));
        Assert.True(changed);
        Assert.Equal(5ul, queue.Append(Exit(1)).PollHandle);
        Assert.Null(queue.Append(Exit(2)).PollHandle); // notified already: the kernel polls again first
        Assert.True(queue.Poll(6, out changed)); // readable now, and the handle is kept for edge-triggered waiters
        Assert.True(changed);
        Assert.Equal(6ul, queue.Append(Exit(3)).PollHandle);
        Assert.True(queue.Poll(null, out changed)); // a poll without a handle asks, and changes nothing
        Assert.False(changed);
        Assert.Null(queue.Append(Exit(4)).PollHandle);
        Assert.True(queue.Poll(6, out changed)); // the file's handle again, after its wake-up: nothing new to hand over
        Assert.False(changed);
    }

    [Fact]
    public void A_restart_hands_over_the_poll_handle_and_the_next_instance_notifies_it()
    {
        var queue = new RecordQueue(8);
        queue.Poll(9, out _);
        Assert.Equal(9ul, queue.Append(Exit(1)).PollHandle); // notified, and not re-armed by a new POLL yet
        var (records, nextSeq, dropped, handle) = queue.Snapshot();
        Assert.Equal(9ul, handle); // the file's handle all the same: a needless wake-up is harmless, a missing one hangs poll(2)

        var next = new RecordQueue(8);
        next.Restore(records, nextSeq, dropped, handle);
        Assert.Equal(9ul, next.Append(Exit(2)).PollHandle);
    }

    [Fact]
    public void Records_are_64_bytes_with_the_C_layout()
    {
        var record = new KmonitorEventRecord { size = 64, type = 0x40, seq = 3, time_ns = 9, pid = 10, tgid = 11, ppid = 12, uid = 13, status = 14, watch = 15, reserved = 0 };
        record.SetComm("a-very-long-process-name"u8);
        var bytes = new byte[64];
        record.Write(bytes);
        Assert.Equal(64, System.Runtime.InteropServices.Marshal.SizeOf<KmonitorEventRecord>());
        Assert.Equal(10, BitConverter.ToInt32(bytes, 16));
        Assert.Equal(15u, BitConverter.ToUInt32(bytes, 36));
        Assert.Equal("a-very-long-pro", KmonitorEventRecord.Read(bytes).Comm); // 15 bytes and a NUL, as comm
        Assert.Equal(0, bytes[40 + 15]);
    }

    [Fact]
    public void Quiet_appends_ask_for_one_wake_up_and_it_answers_the_parked_read_with_all_of_them()
    {
        var queue = new RecordQueue(16);
        var read = new Waiter(16 * KmonitorEventRecord.Size);
        Assert.Null(queue.ReadOrWait(read));

        Assert.True(queue.AppendQuietly(Exit(1), out bool queued));
        Assert.True(queued);
        Assert.False(queue.AppendQuietly(Exit(2), out _)); // asked for already
        Assert.False(queue.AppendQuietly(Exit(3), out _));
        Assert.Equal(0, read.Deliveries);

        queue.TakeWakeup().DeliverRead();
        Assert.Equal(1, read.Deliveries);
        Assert.Equal([1, 2, 3], read.Got.Select(r => r.pid));
        Assert.Equal([1u, 2u, 3u], read.Got.Select(r => r.seq));
    }

    [Fact]
    public void A_quiet_append_with_nobody_waiting_asks_for_no_wake_up()
    {
        var queue = new RecordQueue(16);
        Assert.False(queue.AppendQuietly(Exit(1), out bool queued));
        Assert.True(queued);
        Assert.Equal([1], ReadAll(queue).Select(r => r.pid));
    }

    [Fact]
    public void A_wake_up_after_a_read_took_every_record_leaves_the_parked_read_parked_for_the_next()
    {
        var queue = new RecordQueue(16);
        var parked = new Waiter(16 * KmonitorEventRecord.Size);
        Assert.Null(queue.ReadOrWait(parked));
        Assert.True(queue.AppendQuietly(Exit(1), out _));
        Assert.Equal([1], ReadAll(queue).Select(r => r.pid)); // a non-blocking read before the batch ended

        var wakeup = queue.TakeWakeup();
        Assert.Null(wakeup.Waiter); // an empty answer would read as end of file
        Assert.Equal(0, parked.Deliveries);

        Assert.True(queue.AppendQuietly(Exit(2), out _)); // asks again: the flag was reset
        queue.TakeWakeup().DeliverRead();
        Assert.Equal([2], parked.Got.Select(r => r.pid));
    }

    [Fact]
    public void A_full_queue_drops_a_quiet_append_and_counts_it()
    {
        var queue = new RecordQueue(1);
        Assert.False(queue.AppendQuietly(Exit(1), out bool first));
        Assert.False(queue.AppendQuietly(Exit(2), out bool second));
        Assert.Equal((true, false, 1u), (first, second, queue.Dropped));
    }
}
