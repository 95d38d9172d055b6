using Kmonitor.Abi;
using Kmonitor.Events;
using Kmonitor.Records;
using Kmonitor.Tests.Infrastructure;
using Kmonitor.Tests.Unit.Support;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Unit;

/// <summary>
/// The listener's own dispatch (<see cref="Dispatch.Dispatcher.TryDispatchInline"/>): a batch is
/// handled on the receiving thread only while nothing waits in the ring and no other thread
/// dispatches, never waiting for that thread; what it does not handle goes into the ring behind
/// what is there, so notifications leave in the order their events came; and the records a batch
/// queues answer a parked read once. The target is a real process (REGISTER takes its pidfd);
/// the events are the test's.
/// </summary>
public sealed class InlineDispatchTests : IDisposable
{
    private readonly ServiceHarness _h = new();
    private readonly KmTarget _target = new();

    public InlineDispatchTests() =>
        _h.Service.Dispatcher.InlineBudget = TimeSpan.FromMinutes(1); // a JIT or a preemption on a loaded machine must not end a batch here

    public void Dispose()
    {
        _h.Dispose();
        _target.Dispose();
    }

    private ProcEvent ForkOf(int child) =>
        new(ProcEventWhat.PROC_EVENT_FORK, 0, 0, _h.Now, child, child, _target.Pid, _target.Pid, 0);

    private ProcEvent[] Forks(params int[] children) => children.Select(ForkOf).ToArray();

    private List<int> SentPids => _h.Delivery.Sent.Select(s => s.Pid).ToList();

    [Fact]
    public void With_nothing_in_the_ring_the_whole_batch_is_handled_on_the_calling_thread_in_order()
    {
        Assert.Equal(0, _h.Register(_h.Open(), _target.Pid, KMONITOR_PROCESS_FORK));

        Assert.Equal(3, _h.Service.Dispatcher.TryDispatchInline(Forks(5001, 5002, 5003)));

        Assert.Equal([5001, 5002, 5003], SentPids);
        Assert.All(_h.Delivery.Sent, s => Assert.Equal(Environment.CurrentManagedThreadId, s.Thread));
        Assert.True(_h.Service.Ring.IsEmpty);
    }

    [Fact]
    public void An_event_waiting_in_the_ring_makes_the_batch_queue_behind_it()
    {
        Assert.Equal(0, _h.Register(_h.Open(), _target.Pid, KMONITOR_PROCESS_FORK));
        Assert.Equal(0, _h.Service.Ring.WriteBatch(Forks(5001)));

        var batch = Forks(5002, 5003);
        int handled = _h.Service.Dispatcher.TryDispatchInline(batch);
        Assert.Equal(0, handled);
        Assert.Empty(_h.Delivery.Sent);
        Assert.Equal(0, _h.Service.Ring.WriteBatch(batch.AsSpan(handled))); // what the listener does with the rest
        _h.Pump();

        Assert.Equal([5001, 5002, 5003], SentPids);
    }

    [Fact]
    public void While_the_dispatcher_thread_handles_an_event_it_took_the_listener_does_not_wait_and_queues_behind_it()
    {
        Assert.Equal(0, _h.Register(_h.Open(), _target.Pid, KMONITOR_PROCESS_FORK));
        using var sending = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int sends = 0;
        _h.Delivery.BeforeSend = () =>
        {
            if (Interlocked.Increment(ref sends) == 1) // the first send only: 5001's, on the dispatcher thread
            {
                sending.Set();
                release.Wait(TimeSpan.FromSeconds(30));
            }
        };
        Assert.Equal(0, _h.Service.Ring.WriteBatch(Forks(5001)));
        var dispatcherThread = new Thread(() => _h.Service.Dispatcher.DispatchNext(0));
        dispatcherThread.Start();
        Assert.True(sending.Wait(TimeSpan.FromSeconds(10)), "the dispatcher thread never sent 5001");
        Assert.True(_h.Service.Ring.IsEmpty); // 5001 is out of the ring, not handled yet: the case the lock is for

        var batch = Forks(5002);
        int handled = -1;
        var listener = new Thread(() => handled = _h.Service.Dispatcher.TryDispatchInline(batch));
        listener.Start();
        Assert.True(listener.Join(TimeSpan.FromSeconds(10)), "the listener waited for the dispatcher thread");
        Assert.Equal(0, handled);
        Assert.Equal(0, _h.Service.Ring.WriteBatch(batch));
        release.Set();
        Assert.True(dispatcherThread.Join(TimeSpan.FromSeconds(10)));
        _h.Pump();

        Assert.Equal([5001, 5002], SentPids);
    }

    [Fact]
    public void Past_its_time_budget_the_batch_leaves_the_rest_to_the_ring()
    {
        Assert.Equal(0, _h.Register(_h.Open(), _target.Pid, KMONITOR_PROCESS_FORK));
        _h.Service.Dispatcher.InlineBudget = TimeSpan.Zero; // every event takes longer than that

        var batch = Forks(5001, 5002, 5003);
        int handled = _h.Service.Dispatcher.TryDispatchInline(batch);
        Assert.Equal(1, handled);
        Assert.Equal(0, _h.Service.Ring.WriteBatch(batch.AsSpan(handled)));
        Assert.Equal(0, _h.Service.Dispatcher.TryDispatchInline(Forks(5004))); // and the next batch queues behind them
        Assert.Equal(0, _h.Service.Ring.WriteBatch(Forks(5004)));
        _h.Pump();

        Assert.Equal([5001, 5002, 5003, 5004], SentPids);
    }

    [Fact]
    public void The_batch_stops_at_an_event_that_may_read_proc_and_leaves_it_and_the_rest_to_the_ring()
    {
        Assert.Equal(0, _h.Register(_h.Open(), _target.Pid, KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXEC));
        var exec = new ProcEvent(ProcEventWhat.PROC_EVENT_EXEC, 0, 0, _h.Now, _target.Pid, _target.Pid, 0, 0, 0);
        ProcEvent[] batch = [ForkOf(5001), exec, ForkOf(5002)];
        Assert.True(_h.Service.Dispatcher.MayBeSlow(exec));
        Assert.False(_h.Service.Dispatcher.MayBeSlow(batch[0]));

        int handled = _h.Service.Dispatcher.TryDispatchInline(batch);
        Assert.Equal(1, handled);
        Assert.Equal([5001], SentPids);
        Assert.Equal(0, _h.Service.Ring.WriteBatch(batch.AsSpan(handled)));
        _h.Pump();

        Assert.Equal([(5001, KMONITOR_PROCESS_FORK), (_target.Pid, KMONITOR_PROCESS_EXEC), (5002, KMONITOR_PROCESS_FORK)], _h.Delivery.Events);
    }

    [Fact]
    public async Task After_a_notification_to_a_monitor_in_another_pid_namespace_every_event_goes_to_the_dispatcher_thread()
    {
        const int Process = 5_000_000, Thread = 5_000_001, CallerThread = 5_000_021;
        const ulong Namespace = 4_026_000_777;
        _h.Proc.Task(Process, Process, 0);
        _h.Proc.Task(Thread, Process, 0);
        _h.Proc.Task(CallerThread, ServiceHarness.Self, 0, depth: 1);
        _h.Proc.PidNamespaceOf(CallerThread, Namespace);
        _h.Proc.LocalPid(Namespace, 5, Thread);
        var register = _h.Service.Registrar.Register(_h.Open(), CallerThread, new KmonitorCmd(5, KMONITOR_PROCESS_EXEC, 40));
        Assert.Equal(0, await register.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        var fork = ForkOf(5001);
        Assert.False(_h.Service.Dispatcher.MayBeSlow(fork));

        _h.Event(ProcEventWhat.PROC_EVENT_EXEC, Thread, Process);
        _h.Pump();
        Assert.True(Assert.Single(_h.Delivery.Sent).ThroughRelay);

        Assert.True(_h.Service.Dispatcher.MayBeSlow(fork)); // a relay's round trip and /proc scans may come with any event now
        Assert.Equal(0, _h.Service.Dispatcher.TryDispatchInline([fork]));
    }

    [Fact]
    public void A_batch_answers_a_parked_read_once_with_every_record_it_queued()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_FORK, signal: 0));
        var read = new CapturingWaiter(64 * KmonitorEventRecord.Size);
        Assert.Null(file.Records.ReadOrWait(read));

        Assert.Equal(4, _h.Service.Dispatcher.TryDispatchInline(Forks(5001, 5002, 5003, 5004)));

        var answer = Assert.Single(read.Answers);
        Assert.Equal([5001, 5002, 5003, 5004], Records(answer).Select(r => r.pid));
    }

    [Fact]
    public void The_dispatcher_threads_batch_answers_a_parked_read_once_too()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_FORK, signal: 0));
        var read = new CapturingWaiter(64 * KmonitorEventRecord.Size);
        Assert.Null(file.Records.ReadOrWait(read));
        Assert.Equal(0, _h.Service.Ring.WriteBatch(Forks(5001, 5002, 5003)));

        Assert.True(_h.Service.Dispatcher.DispatchBatch(0));

        var answer = Assert.Single(read.Answers);
        Assert.Equal([5001, 5002, 5003], Records(answer).Select(r => r.pid));
        Assert.True(_h.Service.Ring.IsEmpty);
    }

    private static List<KmonitorEventRecord> Records(byte[] bytes) =>
        Enumerable.Range(0, bytes.Length / KmonitorEventRecord.Size).Select(i => KmonitorEventRecord.Read(bytes.AsSpan(i * KmonitorEventRecord.Size))).ToList();

    private sealed class CapturingWaiter(int bufferBytes) : IRecordWaiter
    {
        public List<byte[]> Answers { get; } = [];
        public int BufferBytes => bufferBytes;
        public void Deliver(ReadOnlySpan<byte> records) => Answers.Add(records.ToArray());
    }
}
