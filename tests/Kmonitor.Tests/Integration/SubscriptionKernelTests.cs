using System.Diagnostics;
using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Events;
using Kmonitor.Procfs;
using Kmonitor.Subscriptions;
using Kmonitor.Tests.Infrastructure;
using Kmonitor.Tests.Unit.Support;
using static Kmonitor.Abi.KmonitorAbi;
using static Kmonitor.Abi.SubscriptionAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// The subscription engine fed by the real process connector and reading the real /proc, without
/// a daemon: the test thread plays the dispatcher. It checks what the unit tests can only assume:
/// that the kernel's FORK comes before anything of the child, and that a name read at EXEC is there.
/// </summary>
public class SubscriptionKernelTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public void A_TREE_on_a_shell_reports_every_grandchild_that_forks_execs_and_exits_at_once_and_NAME_sees_them_too()
    {
        Root.Require();
        var ring = new EventRing(1 << 16);
        var counters = new Counters();
        using var listener = new EventListener(ring, counters, 8 << 20, () => { });
        listener.Start();

        // The issue's case: monitor_pid saw the subshells but none of their sleep children. Sleeps of
        // 2 s, not 0.2: each name is read at its EXEC and must still be there on a slow (emulated) machine.
        var start = new ProcessStartInfo("sh") { RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-c", "read go; for i in 1 2 3; do (sleep 2; true) & done; wait" })
            start.ArgumentList.Add(arg);
        using var shell = Process.Start(start)!;

        var sink = new RecordingSink();
        var engine = new SubscriptionEngine(ProcReader.Instance, sink, counters);
        var tree = Subscription(1, KMONITOR_SCOPE_TREE, AllEvents | KMONITOR_PROCESS_EXISTING, pid: shell.Id);
        var sleeps = Subscription(2, KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT, pattern: "sleep");
        Assert.Equal(0, engine.Install(tree, (ulong)MonotonicClock.System.NowNs()));
        Assert.Equal(0, engine.Install(sleeps, (ulong)MonotonicClock.System.NowNs()));
        shell.StandardInput.WriteLine("go");
        shell.StandardInput.Flush();

        var watch = Stopwatch.StartNew();
        while (!sink.To(tree).Any(e => e.Bit == KMONITOR_PROCESS_EXIT && e.Pid == shell.Id))
        {
            Assert.True(watch.Elapsed < Deadline, $"no PROCESS_EXIT of the shell within {Deadline}; got {string.Join(", ", sink.Bits(tree))}");
            if (ring.TryRead(out var ev, 100))
                engine.Handle(ev);
        }

        var records = sink.To(tree);
        Assert.Equal(KMONITOR_PROCESS_EXISTING, records[0].Bit);
        Assert.Equal(shell.Id, records[0].Pid);
        Assert.Equal(records.Count, records.Select(e => (e.Bit, e.Pid)).Distinct().Count());

        var sleepExecs = records.Where(e => e.Bit == KMONITOR_PROCESS_EXEC && e.Comm == "sleep").ToList();
        Assert.Equal(3, sleepExecs.Count);
        foreach (var exec in sleepExecs)
        {
            int forkAt = records.FindIndex(e => e.Bit == KMONITOR_PROCESS_FORK && e.Pid == exec.Pid);
            int execAt = records.IndexOf(exec);
            int exitAt = records.FindIndex(e => e.Bit == KMONITOR_PROCESS_EXIT && e.Pid == exec.Pid);
            Assert.True(forkAt >= 0 && forkAt < execAt && execAt < exitAt, $"sleep {exec.Pid}: fork {forkAt}, exec {execAt}, exit {exitAt}");
            Assert.Equal(("sleep", 0), (records[exitAt].Comm, records[exitAt].Status));
        }

        // The NAME subscription saw the same three, from exec to exit, and nothing else of this machine's in between that is not a sleep.
        var named = sink.To(sleeps).Where(e => sleepExecs.Any(x => x.Pid == e.Pid)).Select(e => (e.Bit, e.Pid)).ToList();
        Assert.Equal(sleepExecs.SelectMany(x => new[] { (KMONITOR_PROCESS_EXEC, x.Pid), (KMONITOR_PROCESS_EXIT, x.Pid) }).Order(), named.Order());
        Assert.All(sink.To(sleeps), e => Assert.Equal("sleep", e.Comm));
        shell.WaitForExit();
    }

    [Fact]
    public void A_burst_of_subshells_whose_children_exec_and_exit_at_once_is_reported_whole_and_once()
    {
        Root.Require();
        var ring = new EventRing(1 << 16);
        var counters = new Counters();
        using var listener = new EventListener(ring, counters, 8 << 20, () => { });
        listener.Start();
        const int Subshells = 50;
        var start = new ProcessStartInfo("sh") { RedirectStandardInput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-c", $"read go; i=0; while [ $i -lt {Subshells} ]; do (/bin/true; :) & i=$((i+1)); done; wait" })
            start.ArgumentList.Add(arg);
        using var shell = Process.Start(start)!;
        var sink = new RecordingSink();
        var engine = new SubscriptionEngine(ProcReader.Instance, sink, counters);
        var tree = Subscription(1, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT, pid: shell.Id);
        Assert.Equal(0, engine.Install(tree, (ulong)MonotonicClock.System.NowNs()));
        shell.StandardInput.WriteLine("go");
        shell.StandardInput.Flush();

        var watch = Stopwatch.StartNew();
        while (!sink.To(tree).Any(e => e.Bit == KMONITOR_PROCESS_EXIT && e.Pid == shell.Id))
        {
            Assert.True(watch.Elapsed < Deadline, $"no PROCESS_EXIT of the shell within {Deadline}");
            if (ring.TryRead(out var ev, 100))
                engine.Handle(ev);
        }
        Assert.Equal(0, Interlocked.Read(ref counters.EventsLost));

        var records = sink.To(tree);
        Assert.Equal(records.Count, records.Select(e => (e.Bit, e.Pid)).Distinct().Count());
        // Each subshell (forked by the shell) forks one /bin/true, which execs and exits.
        var subshells = records.Where(e => e.Bit == KMONITOR_PROCESS_FORK && e.Ppid == shell.Id).Select(e => e.Pid).ToHashSet();
        var trues = records.Where(e => e.Bit == KMONITOR_PROCESS_FORK && subshells.Contains(e.Ppid)).Select(e => e.Pid).ToList();
        Assert.Equal(Subshells, subshells.Count);
        Assert.Equal(Subshells, trues.Count);
        foreach (int pid in trues)
        {
            Assert.Contains((KMONITOR_PROCESS_EXEC, pid), sink.Bits(tree));
            Assert.Contains((KMONITOR_PROCESS_EXIT, pid), sink.Bits(tree));
        }
        shell.WaitForExit();
    }

    private static Subscription Subscription(uint id, uint scope, int type, int pid = 0, string? pattern = null)
    {
        var request = new KmonitorSubscription { scope = scope, type = (uint)type, pid = pid };
        if (pattern is not null)
            request.SetPattern(pattern);
        Assert.Equal(0, SubscriptionRequest.Validate(request, out var spec, out _));
        return new Subscription(id, spec!, WatchRights.Unlimited, new object());
    }
}
