using Kmonitor.Procfs;
using static Kmonitor.Abi.KmonitorAbi;
using static Kmonitor.Abi.SubscriptionAbi;

namespace Kmonitor.Tests.Unit.Subscriptions;

public class LifecycleTests
{
    private const int Shell = SubscriptionWorld.Base, Child = Shell + 1;

    [Fact]
    public void Remove_stops_records_and_the_last_one_gone_forgets_every_process()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Shell, 1, "sh");
        var tree = w.Subscribe(KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_FORK, pid: Shell);
        var name = w.Subscribe(KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_FORK, pattern: "sh");
        Assert.Equal(2, w.Engine.Count);

        Assert.True(w.Engine.Remove(tree));
        Assert.False(w.Engine.Remove(tree));
        w.Fork(Shell, Child);
        Assert.Empty(w.Sink.To(tree));
        Assert.Single(w.Sink.To(name));

        Assert.True(w.Engine.Remove(name));
        Assert.Equal(0, w.Engine.Count);
        Assert.Equal(0, w.Engine.TrackedProcesses);
    }

    [Fact]
    public void RemoveAll_drops_exactly_the_subscriptions_of_the_file_closed()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Shell, 1, "sh");
        object closed = new(), open = new();
        var a = w.Subscribe(KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_FORK, file: closed);
        var b = w.Subscribe(KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_FORK, pid: Shell, file: closed);
        var c = w.Subscribe(KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_FORK, pid: Shell, file: open);

        Assert.Equal(2, w.Engine.RemoveAll(closed));
        Assert.Equal(0, w.Engine.RemoveAll(closed));
        w.Fork(Shell, Child);
        Assert.Empty(w.Sink.To(a));
        Assert.Empty(w.Sink.To(b));
        Assert.Equal([(KMONITOR_PROCESS_FORK, Child)], w.Sink.Bits(c));
        Assert.Equal(1, w.Engine.Count);
    }

    [Fact]
    public void A_subscription_made_while_others_run_counts_from_its_own_start()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Shell, 1, "sh");
        var first = w.Subscribe(KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_FORK);
        ulong between = w.Tick();
        var second = w.Subscribe(KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_FORK);
        w.ForkAt(between, Shell, Child);
        Assert.Single(w.Sink.To(first));
        Assert.Empty(w.Sink.To(second));
    }

    [Fact]
    public void A_scan_of_the_real_proc_finds_this_test_process_by_name()
    {
        string comm = ProcFile.ReadComm(Environment.ProcessId)!;
        var pids = new List<int>();
        ProcReader.Instance.ListProcesses(pids);
        Assert.Contains(Environment.ProcessId, pids);

        var sink = new Support.RecordingSink();
        var engine = new Kmonitor.Subscriptions.SubscriptionEngine(ProcReader.Instance, sink, new Kmonitor.Diagnostics.Counters());
        var world = new SubscriptionWorld();
        var byName = world.Make(KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_EXISTING, pattern: comm);
        Assert.Equal(0, engine.Install(byName, (ulong)Kmonitor.Events.MonotonicClock.System.NowNs()));

        var self = Assert.Single(sink.To(byName), e => e.Pid == Environment.ProcessId);
        Assert.True(ProcTaskStatus.TryRead(Environment.ProcessId, out var status));
        Assert.Equal((Environment.ProcessId, status.ParentPid, status.RealUid, comm), (self.Tgid, self.Ppid, self.Uid, self.Comm));
        Assert.All(sink.To(byName), e => Assert.Equal(comm, e.Comm));

        // And its command line, as pgrep -f sees it.
        string line = ProcessCommandLine.Read(Environment.ProcessId)!;
        Assert.Equal(string.Join(' ', File.ReadAllText("/proc/self/cmdline").TrimEnd('\0').Split('\0')), line);
        Assert.True(engine.Remove(byName));
    }
}
