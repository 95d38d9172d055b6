using Kmonitor.Subscriptions;
using static Kmonitor.Abi.KmonitorAbi;
using static Kmonitor.Abi.SubscriptionAbi;

namespace Kmonitor.Tests.Unit.Subscriptions;

/// <summary>
/// A takeover's reinstall: subscriptions come back from one /proc scan, with no second EXISTING,
/// and the events queued during the gap (stamped after each SUBSCRIBE) apply to them.
/// </summary>
public class ReinstallTests
{
    private const int Root = SubscriptionWorld.Base, Child = Root + 1, Gap = Root + 2, Outsider = Root + 9;
    private const int Forks = KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT;

    /// <summary>As the previous instance made it: SUBSCRIBE's time, before the gap.</summary>
    private static Subscription Made(SubscriptionWorld w, uint scope, int type, int pid = 0, string? pattern = null)
    {
        var s = w.Make(scope, type, pid, pattern);
        s.StartNs = w.Tick();
        return s;
    }

    [Fact]
    public void A_tree_is_its_roots_descendants_now_and_the_gaps_fork_and_exit_reach_it_without_EXISTING()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sh");
        w.Proc.Process(Child, Root, "make");
        w.Proc.Process(Outsider, 1, "other");
        var tree = Made(w, KMONITOR_SCOPE_TREE, Forks | KMONITOR_PROCESS_EXISTING, Root);
        ulong forkedInGap = w.Tick(); // queued in the socket while no daemon ran; handled after the reinstall

        w.Engine.Reinstall([(tree, RootAtTakeover.Same)]);
        w.ForkAt(forkedInGap, Root, Gap);
        w.Exit(Gap, parent: Root);
        w.Fork(Child, Gap + 1);
        w.Fork(Outsider, Gap + 2);

        Assert.Equal(1, w.Engine.Count);
        Assert.Equal([(KMONITOR_PROCESS_FORK, Gap), (KMONITOR_PROCESS_EXIT, Gap), (KMONITOR_PROCESS_FORK, Gap + 1)], w.Sink.Bits(tree));
    }

    /// <summary>
    /// A member that ended in the gap is a zombie at the scan: its queued EXIT is still reported (the
    /// case of a supervisor's child dying during `systemctl restart`). One that ended before the
    /// previous instance stopped has no EXIT queued and is forgotten once the backlog is handled.
    /// </summary>
    [Fact]
    public void A_member_that_ended_in_the_gap_is_reported_by_its_queued_EXIT_and_an_older_zombie_is_forgotten()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sh");
        w.Proc.Process(Child, Root, "sleep");
        w.Proc.Zombie(Child);
        w.Proc.Process(Gap, Root, "true");
        w.Proc.Zombie(Gap); // ended, and reported, before the handover
        w.Proc.Process(Outsider, 1, "sleep");
        w.Proc.Zombie(Outsider);
        var tree = Made(w, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, Root);
        var sleeps = Made(w, KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXIT, pattern: "sleep");
        ulong exitedInGap = w.Tick(); // before the scan, as a zombie's EXIT is

        w.Engine.Reinstall([(tree, RootAtTakeover.Same), (sleeps, RootAtTakeover.None)]);
        w.ExitAt(exitedInGap, Child, parent: Root);
        w.ExitAt(exitedInGap, Outsider, parent: 1);
        Assert.Equal(2, w.Engine.TrackedProcesses); // the root, and the older zombie until the backlog is handled
        w.Engine.ForgetEndedAtTakeover();

        Assert.Equal([(KMONITOR_PROCESS_EXIT, Child)], w.Sink.Bits(tree));
        Assert.Equal([(KMONITOR_PROCESS_EXIT, Child), (KMONITOR_PROCESS_EXIT, Outsider)], w.Sink.Bits(sleeps));
        Assert.Equal(1, w.Engine.TrackedProcesses); // the root alone
    }

    [Fact]
    public void A_root_that_ended_in_the_gap_is_reported_by_its_queued_EXIT_and_one_gone_before_is_not_again()
    {
        var w = new SubscriptionWorld();
        var endedInGap = Made(w, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, Root);
        var goneBefore = Made(w, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, Child);

        w.Engine.Reinstall([(endedInGap, RootAtTakeover.EndedInGap), (goneBefore, RootAtTakeover.GoneBefore)]);
        w.Exit(Root, status: 9 << 8, parent: 1);
        w.Exit(Child, parent: 1);

        Assert.Equal([(KMONITOR_PROCESS_EXIT, Root)], w.Sink.Bits(endedInGap));
        Assert.Empty(w.Sink.Bits(goneBefore));
        Assert.Equal(0, w.Engine.TrackedProcesses);
    }

    [Fact]
    public void A_root_pid_now_another_process_gives_that_one_no_membership()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "reuser");
        var tree = Made(w, KMONITOR_SCOPE_TREE, Forks, Root);
        w.Engine.Reinstall([(tree, RootAtTakeover.EndedInGap)]);
        w.Fork(Root, Child);
        Assert.Empty(w.Sink.Bits(tree));
    }

    [Fact]
    public void A_name_matches_what_runs_now_and_sees_the_gaps_exec()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sshd");
        w.Proc.Process(Child, 1, "bash");
        var named = Made(w, KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_EXISTING, pattern: "sshd");
        w.Engine.Reinstall([(named, RootAtTakeover.None)]);
        w.Exec(Root);   // an exec of the gap, queued: the scan already saw its new name
        w.Exit(Child);
        w.Exit(Root);
        Assert.Equal([(KMONITOR_PROCESS_EXEC, Root), (KMONITOR_PROCESS_EXIT, Root)], w.Sink.Bits(named));
    }
}
