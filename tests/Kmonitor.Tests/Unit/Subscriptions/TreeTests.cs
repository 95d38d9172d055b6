using Kmonitor.Interop;
using static Kmonitor.Abi.KmonitorAbi;
using static Kmonitor.Abi.SubscriptionAbi;

namespace Kmonitor.Tests.Unit.Subscriptions;

public class TreeTests
{
    private const int Root = SubscriptionWorld.Base, Child = Root + 1, Grandchild = Root + 2, Outsider = Root + 9;
    private const int Forks = KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT;

    [Fact]
    public void EXISTING_reports_the_root_and_its_living_descendants_before_any_later_record()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sh");
        w.Proc.Process(Child, Root, "make");
        w.Proc.Process(Grandchild, Child, "cc");
        w.Proc.Process(Outsider, 1, "other");
        w.Proc.Process(Root + 3, Root, "dead");
        w.Proc.Zombie(Root + 3);

        var tree = w.Subscribe(KMONITOR_SCOPE_TREE, Forks | KMONITOR_PROCESS_EXISTING, pid: Root);
        w.Fork(Grandchild, Root + 4);

        Assert.Equal([(KMONITOR_PROCESS_EXISTING, Root), (KMONITOR_PROCESS_EXISTING, Child), (KMONITOR_PROCESS_EXISTING, Grandchild),
                      (KMONITOR_PROCESS_FORK, Root + 4)], w.Sink.Bits(tree));
        var existing = w.Sink.To(tree)[2];
        Assert.Equal((Grandchild, Grandchild, Child, "cc", tree.StartNs), (existing.Pid, existing.Tgid, existing.Ppid, existing.Comm, existing.TimeNs));
    }

    [Fact]
    public void A_child_forked_after_another_has_exited_starts_afresh_though_the_engine_reuses_what_tracked_the_first()
    {
        // The engine keeps the objects of exited processes to track the next children with
        // (no allocation per fork): nothing of the first child may show in the second's records.
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sh");
        var tree = w.Subscribe(KMONITOR_SCOPE_TREE, Forks, pid: Root);
        w.Fork(Root, Child);
        w.Thread(Child, Child + 50);
        w.Exit(Child, parent: Root);          // the leader first: the process lives on in its thread
        w.Exit(Child + 50, tgid: Child);      // its last task: the process's exit
        w.Fork(Root, Grandchild);             // tracked with what tracked Child
        w.Fork(Grandchild, Root + 7);         // its own child names it as the parent, not Child
        w.Thread(Grandchild, Grandchild + 50);
        w.Exit(Grandchild + 50, tgid: Grandchild);
        Assert.Equal([(KMONITOR_PROCESS_FORK, Child), (KMONITOR_PROCESS_EXIT, Child), (KMONITOR_PROCESS_FORK, Grandchild),
                      (KMONITOR_PROCESS_FORK, Root + 7)], w.Sink.Bits(tree));
        Assert.Equal(Grandchild, w.Sink.To(tree)[^1].Ppid);
        w.Exit(Grandchild, parent: Root);     // its leader is its last task now
        var exit = w.Sink.To(tree)[^1];
        Assert.Equal((KMONITOR_PROCESS_EXIT, Grandchild, Grandchild, Root, "sh"), (exit.Bit, exit.Pid, exit.Tgid, exit.Ppid, exit.Comm));
        Assert.Equal(2, w.Engine.TrackedProcesses); // the root and Root + 7
    }

    [Fact]
    public void Without_EXISTING_only_later_events_are_reported()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sh");
        var tree = w.Subscribe(KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_FORK, pid: Root);
        Assert.Empty(w.Sink.To(tree));
        w.Fork(Root, Child);
        Assert.Equal([(KMONITOR_PROCESS_FORK, Child)], w.Sink.Bits(tree));
    }

    [Fact]
    public void A_burst_of_grandchildren_that_exec_and_exit_at_once_is_reported_whole_and_once()
    {
        // Ten children each fork three grandchildren that exec and exit before the daemon reads
        // anything: none of them is ever in /proc when its events are handled. Membership comes
        // from the FORKs alone, in order, so every event is reported.
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sh");
        var tree = w.Subscribe(KMONITOR_SCOPE_TREE, Forks, pid: Root);
        var expected = new List<(int, int)>();
        int next = Root + 100;
        for (int c = 0; c < 10; c++)
        {
            int child = next++;
            w.Fork(Root, child);
            expected.Add((KMONITOR_PROCESS_FORK, child));
            for (int g = 0; g < 3; g++)
            {
                int grandchild = next++;
                w.Fork(child, grandchild);
                w.Exec(grandchild);
                w.Exit(grandchild, parent: child);
                expected.AddRange([(KMONITOR_PROCESS_FORK, grandchild), (KMONITOR_PROCESS_EXEC, grandchild), (KMONITOR_PROCESS_EXIT, grandchild)]);
            }
            w.Exit(child, parent: Root);
            expected.Add((KMONITOR_PROCESS_EXIT, child));
        }

        Assert.Equal(expected, w.Sink.Bits(tree));
        Assert.Equal(expected.Count, expected.Distinct().Count());
        // Their exec could not be read: from it on, their records have no name (not the one they
        // inherited, which they no longer had); the forks still carry the inherited one.
        var execed = expected.Where(e => e.Item1 == KMONITOR_PROCESS_EXEC).Select(e => e.Item2).ToHashSet();
        Assert.All(w.Sink.To(tree), e => Assert.Equal(execed.Contains(e.Pid) && e.Bit != KMONITOR_PROCESS_FORK ? "" : "sh", e.Comm));
        Assert.Equal(30, w.Counters.NamesUnreadAtExec);
        Assert.Equal(1, w.Engine.TrackedProcesses); // only the root is left
    }

    [Fact]
    public void A_descendant_re_parented_to_init_stays_a_member_to_its_exit()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sh");
        var tree = w.Subscribe(KMONITOR_SCOPE_TREE, Forks, pid: Root);
        w.Fork(Root, Child);
        w.Fork(Child, Grandchild);
        w.Exit(Child, parent: Root);
        w.Exit(Root, parent: 1);
        w.Exec(Grandchild);
        w.Exit(Grandchild, status: 3 << 8, parent: 1);

        Assert.Equal([(KMONITOR_PROCESS_FORK, Child), (KMONITOR_PROCESS_FORK, Grandchild), (KMONITOR_PROCESS_EXIT, Child),
                      (KMONITOR_PROCESS_EXIT, Root), (KMONITOR_PROCESS_EXEC, Grandchild), (KMONITOR_PROCESS_EXIT, Grandchild)], w.Sink.Bits(tree));
        var exit = w.Sink.To(tree)[^1];
        Assert.Equal((1, 3 << 8), (exit.Ppid, exit.Status)); // the parent it has at exit, and the wait status
    }

    [Fact]
    public void A_fork_record_is_about_the_child_and_names_the_forking_process()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sh", uid: 1000);
        var tree = w.Subscribe(KMONITOR_SCOPE_TREE, Forks, pid: Root);
        w.Fork(Root, Child);
        var fork = Assert.Single(w.Sink.To(tree));
        Assert.Equal((Child, Child, Root, 1000u, "sh"), (fork.Pid, fork.Tgid, fork.Ppid, fork.Uid, fork.Comm));
    }

    [Fact]
    public void Events_stamped_before_SUBSCRIBE_are_not_applied()
    {
        // Under load the root's own FORK (stamped before SUBSCRIBE) is handled after it: it must not
        // make the root's parent a member, nor report anything.
        var w = new SubscriptionWorld();
        const int Parent = Root - 1;
        w.Proc.Process(Parent, 1, "bash");
        w.Proc.Process(Root, Parent, "sh");
        w.Proc.Process(Child, Root, "sh");
        ulong before = w.Tick();
        var tree = w.Subscribe(KMONITOR_SCOPE_TREE, Forks, pid: Root);

        w.ForkAt(before, Parent, Root);      // the root's birth
        w.ForkAt(before, Root, Child);       // a child the scan already found
        w.Engine.Handle(Kmonitor.Events.ProcEvent.Exec(Root, Root) with { TimestampNs = before });
        Assert.Empty(w.Sink.To(tree));

        w.Fork(Parent, Outsider);            // the parent is no member
        w.Fork(Child, Grandchild);           // the child is, once
        Assert.Equal([(KMONITOR_PROCESS_FORK, Grandchild)], w.Sink.Bits(tree));
    }

    [Fact]
    public void A_descendant_born_and_orphaned_during_the_scan_joins_when_its_FORK_is_handled()
    {
        // Between SUBSCRIBE's clock reading and its scan, the root forked a child that forked a
        // grandchild and exited: the scan sees the grandchild under init, not in the tree. Its FORK,
        // stamped after the start, is handled later and brings it in.
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sh");
        w.Proc.Process(Grandchild, 1, "sleep");
        var tree = w.Make(KMONITOR_SCOPE_TREE, Forks, pid: Root);
        Assert.Equal(0, w.Engine.Install(tree, w.Now - 500));
        w.ForkAt(w.Now - 400, Root, Child);
        w.ForkAt(w.Now - 300, Child, Grandchild);
        w.Exit(Child, parent: Root);
        w.Exec(Grandchild);

        Assert.Equal([(KMONITOR_PROCESS_FORK, Child), (KMONITOR_PROCESS_FORK, Grandchild), (KMONITOR_PROCESS_EXIT, Child),
                      (KMONITOR_PROCESS_EXEC, Grandchild)], w.Sink.Bits(tree));
        Assert.Equal("sleep", w.Sink.To(tree)[^1].Comm);
    }

    [Fact]
    public void Thread_events_of_members_match_the_THREAD_bits_and_the_process_stays_a_member()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "server");
        var tree = w.Subscribe(KMONITOR_SCOPE_TREE, KMONITOR_THREAD_CREATE | KMONITOR_THREAD_EXIT | KMONITOR_THREAD_ABORT | KMONITOR_PROCESS_EXIT, pid: Root);
        w.Thread(Root, Root + 50);
        w.Exit(Root + 50, tgid: Root, status: 9, parent: 1);
        w.Exit(Root, parent: 1);

        Assert.Equal([(KMONITOR_THREAD_CREATE, Root + 50), (KMONITOR_THREAD_ABORT, Root + 50), (KMONITOR_THREAD_EXIT, Root + 50),
                      (KMONITOR_PROCESS_EXIT, Root)], w.Sink.Bits(tree));
        var created = w.Sink.To(tree)[0];
        Assert.Equal((Root + 50, Root, Root), (created.Pid, created.Tgid, created.Ppid));
        Assert.Equal(9, w.Sink.To(tree)[1].Status);
    }

    [Fact]
    public void PROCESS_EXIT_waits_for_the_last_thread_when_the_leader_leaves_first()
    {
        // A leader that calls pthread_exit, or that is first to go in an exit_group, does not end
        // its process: the process ends with its last thread, with that thread's wait status.
        var w = new SubscriptionWorld();
        w.Proc.Task(Root, Root, 0, threads: 2, ppid: 1);
        w.Proc.Exec(Root, "server");
        w.Proc.Task(Root + 1, Root, 0, ppid: 1);
        var tree = w.Subscribe(KMONITOR_SCOPE_TREE, AllEvents, pid: Root);
        w.Thread(Root, Root + 2);
        w.Exit(Root, parent: 1);
        w.Exit(Root + 1, tgid: Root, status: 2 << 8, parent: 1);
        w.Exit(Root + 2, tgid: Root, status: 2 << 8, parent: 1);

        Assert.Equal([(KMONITOR_THREAD_CREATE, Root + 2), (KMONITOR_THREAD_EXIT, Root + 1), (KMONITOR_THREAD_EXIT, Root + 2),
                      (KMONITOR_PROCESS_EXIT, Root)], w.Sink.Bits(tree));
        var exit = w.Sink.To(tree)[^1];
        Assert.Equal((Root, Root, 2 << 8, "server"), (exit.Pid, exit.Tgid, exit.Status, exit.Comm));
        Assert.Equal(0, w.Engine.TrackedProcesses);
    }

    [Fact]
    public void A_root_that_is_not_running_is_ESRCH_and_installs_nothing()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sh");
        w.Proc.Zombie(Root);
        Assert.Equal(Errno.ESRCH, w.Engine.Install(w.Make(KMONITOR_SCOPE_TREE, Forks, pid: Root), w.Tick()));
        Assert.Equal(Errno.ESRCH, w.Engine.Install(w.Make(KMONITOR_SCOPE_TREE, Forks, pid: Root + 77), w.Tick()));
        Assert.Equal(0, w.Engine.Count);
        Assert.Equal(0, w.Engine.TrackedProcesses);
    }

    [Fact]
    public void Rebuild_after_an_overflow_adds_descendants_it_did_not_see_born_and_counts_the_members_gone()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sh");
        w.Proc.Process(Child, Root, "make");
        var tree = w.Subscribe(KMONITOR_SCOPE_TREE, Forks, pid: Root);

        // Lost: the child died, and the root forked a grandchild-to-be that forked again and was re-parented.
        w.Proc.Gone(Child);
        w.Proc.Process(Root + 20, Root, "cc");
        w.Proc.Process(Root + 21, Root + 20, "as");
        w.Proc.Process(Outsider, 1, "other");
        Assert.Equal(1, w.Engine.Rebuild());
        Assert.Equal(1, w.Counters.TreeMembersLost);

        w.Exec(Root + 21);
        w.Exit(Child, parent: Root); // a late word about the forgotten member reports nothing
        w.Exec(Outsider);
        Assert.Equal([(KMONITOR_PROCESS_EXEC, Root + 21)], w.Sink.Bits(tree));
        Assert.Equal("as", w.Sink.To(tree)[0].Comm);
    }

    [Fact]
    public void A_thread_id_as_root_names_its_process()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "server");
        w.Proc.Task(Root + 1, Root, 0, ppid: 1);
        var tree = w.Subscribe(KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXISTING, pid: Root + 1);
        Assert.Equal([(KMONITOR_PROCESS_EXISTING, Root)], w.Sink.Bits(tree));
    }

    [Fact]
    public void A_root_the_caller_may_not_watch_is_EPERM()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Root, 1, "sshd", uid: 0);
        var mine = new Kmonitor.Subscriptions.WatchRights(1000, 1000, Everyone: false);
        Assert.Equal(Errno.EPERM, w.Engine.Install(w.Make(KMONITOR_SCOPE_TREE, Forks, pid: Root, rights: mine), w.Tick()));
        Assert.Equal(0, w.Engine.Count);
    }
}
