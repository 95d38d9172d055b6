using System.Diagnostics;
using Kmonitor.Events;

namespace Kmonitor.Tests.Unit;

/// <summary>The ring between listener and dispatcher: order, bound, and the futex hand-off between two real threads.</summary>
public class EventRingTests
{
    [Fact]
    public void Events_come_out_in_the_order_they_went_in_across_the_wrap()
    {
        var ring = new EventRing(3);
        for (int round = 0; round < 5; round++)
        {
            Assert.True(ring.TryWrite(ProcEvent.Exec(round * 2 + 1, 1)));
            Assert.True(ring.TryWrite(ProcEvent.Exec(round * 2 + 2, 1)));
            Assert.True(ring.TryRead(out var first, 0));
            Assert.True(ring.TryRead(out var second, 0));
            Assert.Equal((round * 2 + 1, round * 2 + 2), (first.Pid, second.Pid));
        }
        Assert.Equal(0, ring.Count);
    }

    [Fact]
    public void A_full_ring_refuses_the_new_event_and_keeps_the_old_ones()
    {
        var ring = new EventRing(2);
        Assert.True(ring.TryWrite(ProcEvent.Exec(1, 1)));
        Assert.True(ring.TryWrite(ProcEvent.Exec(2, 2)));
        Assert.False(ring.TryWrite(ProcEvent.Exec(3, 3)));
        Assert.Equal(2, ring.Count);
        Assert.True(ring.TryRead(out var ev, 0));
        Assert.Equal(1, ev.Pid);
        Assert.True(ring.TryWrite(ProcEvent.Exec(4, 4)));
    }

    [Fact]
    public void An_empty_ring_times_out()
    {
        var ring = new EventRing(4);
        var clock = Stopwatch.StartNew();
        Assert.False(ring.TryRead(out _, 50));
        Assert.InRange(clock.ElapsedMilliseconds, 40, 5000);
    }

    [Fact]
    public void A_sleeping_reader_is_woken_by_a_write_from_another_thread()
    {
        var ring = new EventRing(4);
        ProcEvent received = default;
        bool got = false;
        var reader = StartReader(() => got = ring.TryRead(out received, 10_000), out var tid);
        WaitUntilAsleepOnTheFutex(ring, tid);
        ring.TryWrite(ProcEvent.Exec(42, 42));
        Assert.True(reader.Join(5000), "the write did not wake the reader");
        Assert.True(got);
        Assert.Equal(42, received.Pid);
    }

    [Fact]
    public void Complete_wakes_the_reader_which_drains_what_is_left_then_stops()
    {
        var ring = new EventRing(4);
        ring.TryWrite(ProcEvent.Exec(7, 7));
        Assert.True(ring.TryRead(out _, 0));
        bool got = true;
        var reader = StartReader(() => got = ring.TryRead(out _, 10_000), out var tid);
        WaitUntilAsleepOnTheFutex(ring, tid);
        ring.Complete();
        Assert.True(reader.Join(5000), "Complete did not wake the reader");
        Assert.False(got);
        Assert.True(ring.IsCompleted);
    }

    /// <summary>Starts a thread running <paramref name="read"/>; <paramref name="tid"/> is its kernel thread id.</summary>
    private static Thread StartReader(Action read, out int tid)
    {
        using var started = new ManualResetEventSlim();
        int id = 0;
        var thread = new Thread(() =>
        {
            // /proc/thread-self links to PID/task/TID.
            id = int.Parse(Path.GetFileName(new FileInfo("/proc/thread-self").LinkTarget!));
            started.Set();
            read();
        });
        thread.Start();
        Assert.True(started.Wait(5000), "the reader thread did not start");
        tid = id;
        return thread;
    }

    /// <summary>
    /// Waits until thread <paramref name="tid"/> is blocked in a system call whose first argument is
    /// the ring's futex word: /proc/self/task/TID/syscall reads "NR ARG1 ..." while a thread is in a
    /// call, and futex(2) takes the word's address first. Proof, not a guess from elapsed time.
    /// </summary>
    private static void WaitUntilAsleepOnTheFutex(EventRing ring, int tid)
    {
        string word = $"0x{ring.ReaderStateWord:x}";
        string seen = "";
        var deadline = Environment.TickCount64 + 10_000;
        while (Environment.TickCount64 < deadline)
        {
            seen = File.ReadAllText($"/proc/self/task/{tid}/syscall").Trim();
            var fields = seen.Split(' ');
            if (fields.Length > 1 && fields[1] == word)
                return;
            Thread.Sleep(1);
        }
        Assert.Fail($"the reader never slept on the futex word {word}; its last system call: {seen}");
    }

    [Fact]
    public void A_marker_is_never_refused_and_comes_out_between_the_events_around_it()
    {
        var ring = new EventRing(2);
        Assert.True(ring.TryWrite(ProcEvent.Exec(1, 1)));
        var subject = new object();
        ring.Post(ProcEvent.ProcessGone(100, 0), subject);
        Assert.True(ring.TryWrite(ProcEvent.Exec(2, 2)));
        Assert.False(ring.TryWrite(ProcEvent.Exec(3, 3))); // the ring is full, and still:
        ring.Post(ProcEvent.MonitorGone(200, 0), null);
        Assert.Equal(4, ring.Count);

        var read = new List<(int Pid, object? Subject)>();
        while (ring.TryRead(out var ev, out object? with, 0))
            read.Add((ev.Pid, with));
        Assert.Equal([(1, null), (100, subject), (2, null), (200, null)], read);
        Assert.Equal(0, ring.Count);
    }

    [Fact]
    public void A_marker_wakes_a_sleeping_reader()
    {
        var ring = new EventRing(4);
        ProcEvent received = default;
        var reader = StartReader(() => ring.TryRead(out received, 10_000), out var tid);
        WaitUntilAsleepOnTheFutex(ring, tid);
        ring.Post(ProcEvent.ProcessGone(7, 0), null);
        Assert.True(reader.Join(5000), "the marker did not wake the reader");
        Assert.Equal(ProcEventWhat.KMONITORD_PROCESS_GONE, received.What);
    }

    [Fact]
    public void Nothing_is_lost_or_duplicated_between_two_writers_and_a_reader()
    {
        const int PerWriter = 200_000;
        var ring = new EventRing(64);
        var writers = Enumerable.Range(0, 2).Select(w => new Thread(() =>
        {
            for (int i = 0; i < PerWriter; i++)
            {
                while (!ring.TryWrite(ProcEvent.Exec(w * PerWriter + i + 1, w + 1)))
                    Thread.Yield();
            }
        })).ToList();
        writers.ForEach(t => t.Start());
        var seen = new bool[2 * PerWriter + 1];
        var last = new int[3];
        for (int n = 0; n < 2 * PerWriter; n++)
        {
            Assert.True(ring.TryRead(out var ev, 10_000), $"stalled after {n} events");
            Assert.False(seen[ev.Pid], $"event {ev.Pid} came twice");
            seen[ev.Pid] = true;
            Assert.True(ev.Pid > last[ev.Tgid], "one writer's events out of order");
            last[ev.Tgid] = ev.Pid;
        }
        writers.ForEach(t => t.Join());
        Assert.Equal(0, ring.Count);
    }

    [Fact]
    public void A_batch_is_written_whole_when_it_fits_and_what_does_not_fit_is_refused_and_counted()
    {
        var ring = new EventRing(3);
        ProcEvent[] batch = [ProcEvent.Exit(1, 1, 0), ProcEvent.Exit(2, 2, 0), ProcEvent.Exit(3, 3, 0), ProcEvent.Exit(4, 4, 0)];
        Assert.Equal(1, ring.WriteBatch(batch));
        var read = new List<int>();
        while (ring.TryRead(out var ev, 0))
            read.Add(ev.Pid);
        Assert.Equal([1, 2, 3], read);
        Assert.Equal(0, ring.WriteBatch(batch.AsSpan(3)));
        Assert.True(ring.TryRead(out var last, 0));
        Assert.Equal(4, last.Pid);
    }

    [Fact]
    public void A_waiting_marker_alone_makes_the_ring_not_empty_and_waiting_for_it_does_not_take_it()
    {
        var ring = new EventRing(4);
        Assert.True(ring.IsEmpty);
        Assert.False(ring.WaitReadable(0));
        ring.Post(ProcEvent.MonitorGone(7, 0), null);
        Assert.False(ring.IsEmpty);
        Assert.True(ring.WaitReadable(0));
        Assert.True(ring.WaitReadable(0)); // still there
        Assert.True(ring.TryTake(out var marker, out _));
        Assert.Equal(ProcEventWhat.KMONITORD_MONITOR_GONE, marker.What);
        Assert.True(ring.IsEmpty);
        Assert.False(ring.TryTake(out _, out _));
    }
}
