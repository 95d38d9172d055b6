using Kmonitor.Tests.Infrastructure;
using static Kmonitor.Abi.KmonitorAbi;
using static Kmonitor.Abi.SubscriptionAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// A restart under systemd, on the host: <see cref="FdStorePeer"/> plays systemd's fd store, the
/// daemon hands its device over at SIGTERM, and the next instance is started with the store as
/// systemd starts it. Monitors are real C clients that keep their files across the restart.
/// </summary>
public class HandoverTests
{
    private static DaemonProcess StartFirst(FdStorePeer store, string name)
    {
        var daemon = DaemonProcess.LaunchThrough(name, store.Environment, [], "--mode", "fuse", "--handover", "yes");
        daemon.WaitForLog("ready:", TimeSpan.FromSeconds(120));
        Assert.Equal("READY=1", store.NextMessage());
        return daemon;
    }

    private static DaemonProcess StartNext(FdStorePeer store, string name)
    {
        var daemon = DaemonProcess.LaunchThrough(name, store.Environment, store.Launcher(), "--mode", "fuse", "--handover", "yes");
        daemon.WaitForLog("ready:", TimeSpan.FromSeconds(120));
        return daemon;
    }

    /// <summary>SIGTERM under systemd: the device is in the store, and still mounted and linked.</summary>
    private static void HandOver(DaemonProcess daemon, FdStorePeer store)
    {
        Assert.Equal(0, daemon.Stop());
        Assert.Contains(daemon.Log, l => l.Contains("handed over to the next instance"));
        store.WaitForStored("channel", "netlink", "state");
        Assert.Empty(store.Faults);
        Assert.NotNull(new FileInfo(daemon.DevicePath).LinkTarget);
    }

    /// <summary>SIGINT is never a restart: the last instance ends the device, and leaves nothing.</summary>
    private static void StopForGood(DaemonProcess daemon, FdStorePeer store)
    {
        daemon.Signal(Posix.SIGINT);
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(20)));
        store.Clear();
        Assert.Empty(Leftovers.Find(daemon.Paths));
    }

    [Fact]
    public void A_monitor_waiting_on_an_exit_is_told_of_one_that_happened_while_no_daemon_ran()
    {
        using var store = new FdStorePeer();
        string name = TestPaths.UniqueName();
        using var target = new KmTarget();
        int child = target.Fork();
        using var monitor = new KmClient();
        using var first = StartFirst(store, name);
        int fd = monitor.Open(first.DevicePath);
        monitor.RegisterOk(fd, child, KMONITOR_PROCESS_EXIT);

        HandOver(first, store);
        target.ExitChild(child, 7); // no daemon runs now
        target.Reap(child);

        using var next = StartNext(store, name);
        var exit = monitor.Expect(20_000);
        Assert.Equal((child, KMONITOR_PROCESS_EXIT), (exit.Pid, exit.Int));
        Assert.Contains(next.Log, l => l.Contains("took over 1 open files, 1 registrations and 0 subscriptions"));
        // The same file goes on working: no ENOTCONN, and a new registration is served by the new instance.
        monitor.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_FORK);
        int grandchild = target.Fork();
        var fork = monitor.Expect();
        Assert.Equal((grandchild, KMONITOR_PROCESS_FORK), (fork.Pid, fork.Int)); // si_pid: the new child
        Assert.Equal(1, next.Status().GetProperty("taken_over_files").GetInt32());
        target.ExitChild(grandchild, 0);
        StopForGood(next, store);
    }

    [Fact]
    public void A_reader_blocked_in_read_gets_the_records_of_the_restart_with_no_sequence_gap()
    {
        using var store = new FdStorePeer();
        string name = TestPaths.UniqueName();
        using var target = new KmTarget();
        using var reader = new KmClient();
        using var first = StartFirst(store, name);
        int fd = reader.Open(first.DevicePath);
        reader.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_FORK, signal: 0);
        int before = target.Fork();
        var one = reader.Next(fd);
        Assert.Equal((KMONITOR_PROCESS_FORK, 1u), (one.Type, one.Seq));

        reader.Begin($"read {fd} {64 * 64} 60000");
        reader.WaitBlocked();
        HandOver(first, store);
        int during = target.Fork(); // queued in the netlink socket, in the store

        using var next = StartNext(store, name);
        var read = reader.FinishRead(70_000);
        Assert.True(read.Ok, read.ToString());
        var record = Assert.Single(read.Records);
        Assert.Equal((KMONITOR_PROCESS_FORK, 2u, during, target.Pid), (record.Type, record.Seq, record.Pid, record.Ppid));
        target.ExitChild(before, 0);
        target.ExitChild(during, 0);
        StopForGood(next, store);
    }

    [Fact]
    public void A_damaged_state_is_said_in_one_line_and_the_next_instance_starts_fresh()
    {
        using var store = new FdStorePeer();
        string name = TestPaths.UniqueName();
        using var monitor = new KmClient();
        using var first = StartFirst(store, name);
        int oldFd = monitor.Open(first.DevicePath);
        monitor.RegisterOk(oldFd, Environment.ProcessId, KMONITOR_PROCESS_FORK);
        HandOver(first, store);
        store.Replace("state", "KMSTATE\0 but not really a state"u8.ToArray());

        using var next = StartNext(store, name);
        Assert.Single(next.Log, l => l.Contains("cannot be used"));
        Assert.DoesNotContain(next.Log, l => l.Contains("took over"));
        // The old connection was ended with the store's contents: an error at once, not a hang.
        // Once the peer has taken the old channel out of the store, nothing holds the old connection.
        store.WaitForRemoved("channel");
        Assert.Contains(monitor.Register(oldFd, Environment.ProcessId, KMONITOR_PROCESS_EXIT), new[] { "err ENOTCONN", "err ENODEV" });
        int newFd = monitor.Open(next.DevicePath);
        monitor.RegisterOk(newFd, Environment.ProcessId, KMONITOR_PROCESS_FORK);
        StopForGood(next, store);
    }

    /// <summary>
    /// The pid of a watched process that belongs to another process after the restart (shown here by
    /// a start time that differs from the one in the state, which is how the daemon tells): the
    /// registration gets the exit of the process it was made for, and nothing of the new one.
    /// </summary>
    [Fact]
    public void A_pid_that_names_another_process_after_the_restart_is_not_signalled()
    {
        using var store = new FdStorePeer();
        string name = TestPaths.UniqueName();
        using var reused = new KmTarget();
        using var barrier = new KmTarget();
        using var monitor = new KmClient();
        using var first = StartFirst(store, name);
        int fd = monitor.Open(first.DevicePath);
        monitor.RegisterOk(fd, reused.Pid, KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXIT);
        HandOver(first, store);

        var state = Kmonitor.Daemon.Handover.StateFormat.Read(store.Read("state"));
        var file = Assert.Single(state.Service.Files);
        var registration = Assert.Single(file.Registrations);
        file.Registrations[0] = registration with { TargetStart = registration.TargetStart + 1 };
        store.Replace("state", Kmonitor.Daemon.Handover.StateFormat.Write(state));

        using var next = StartNext(store, name);
        var exit = monitor.Expect(20_000);
        Assert.Equal((reused.Pid, KMONITOR_PROCESS_EXIT), (exit.Pid, exit.Int));
        int notReported = reused.Fork();
        // The daemon handles events in order: the barrier's fork comes after that one, so it is the next notification.
        monitor.RegisterOk(fd, barrier.Pid, KMONITOR_PROCESS_FORK);
        int child = barrier.Fork();
        var fork = monitor.Expect();
        Assert.Equal((child, KMONITOR_PROCESS_FORK), (fork.Pid, fork.Int));
        reused.ExitChild(notReported, 0);
        barrier.ExitChild(child, 0);
        StopForGood(next, store);
    }

    /// <summary>
    /// SIGKILL (a crash, the watchdog): the store has had the descriptors since the start and the
    /// state since the last answer, so the next start takes over as after a planned stop.
    /// </summary>
    [Fact]
    public void A_daemon_killed_while_a_monitor_waits_is_taken_over_by_the_next_start()
    {
        using var store = new FdStorePeer();
        string name = TestPaths.UniqueName();
        using var target = new KmTarget();
        int child = target.Fork();
        using var monitor = new KmClient();
        using var first = StartFirst(store, name);
        int fd = monitor.Open(first.DevicePath);
        monitor.RegisterOk(fd, child, KMONITOR_PROCESS_EXIT);
        store.WaitForStored("channel", "netlink", "state");

        first.Signal(Posix.SIGKILL);
        first.WaitForExit(TimeSpan.FromSeconds(10));
        target.ExitChild(child, 5); // no daemon runs now
        target.Reap(child);

        using var next = StartNext(store, name);
        var exit = monitor.Expect(20_000);
        Assert.Equal((child, KMONITOR_PROCESS_EXIT), (exit.Pid, exit.Int));
        Assert.Contains(next.Log, l => l.Contains("took over 1 open files, 1 registrations and 0 subscriptions"));
        monitor.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_FORK);
        int grandchild = target.Fork();
        Assert.Equal((grandchild, KMONITOR_PROCESS_FORK), (monitor.Expect().Pid, KMONITOR_PROCESS_FORK));
        target.ExitChild(grandchild, 0);
        StopForGood(next, store);
    }

    private const int ForkExecExit = KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT;

    /// <summary>
    /// A TREE subscription survives a planned restart: its reader, blocked in read(2) throughout,
    /// gets the FORK, EXEC and EXIT of a child that came and went while no daemon ran, numbered on
    /// from the record before, and no second EXISTING. Its id stays its own: UNSUBSCRIBE of it works
    /// (nothing more comes for it) and a new SUBSCRIBE gets the next id.
    /// </summary>
    /// <summary>
    /// The kmonitor command polls before it reads (poll(2) on the device, a FUSE POLL whose handle
    /// the daemon notifies when records come), and it does so beside a 2004 monitor waiting on a
    /// signal: what tests/packaging/vm-handover-test.sh does under systemd.
    /// </summary>
    [Fact]
    public void Kmonitor_watch_polling_a_tree_goes_on_through_a_handover_beside_a_signal_monitor()
    {
        using var store = new FdStorePeer();
        string name = TestPaths.UniqueName();
        using var root = new KmTarget();
        int victim = root.Fork();
        using var monitor = new KmClient();
        using var first = StartFirst(store, name);
        int fd = monitor.Open(first.DevicePath);
        monitor.RegisterOk(fd, victim, KMONITOR_PROCESS_EXIT);
        using var watch = new KmonitorCommand(["--device", first.DevicePath, "watch", "--tree", root.Pid.ToString(), "--existing"]);
        Assert.Contains($" {root.Pid} ", watch.ReadLine("the root's existing line"));
        Assert.Contains($" {victim} ", watch.ReadLine("the victim's existing line"));

        HandOver(first, store);
        root.ExitChild(victim, 3); // no daemon runs now
        using var next = StartNext(store, name);
        var exit = monitor.Expect(20_000);
        Assert.Equal((victim, KMONITOR_PROCESS_EXIT), (exit.Pid, exit.Int));
        watch.ReadUntil(l => l.Contains(" exit ") && l.Contains($" {victim} "), "the victim's exit, which happened while no daemon ran");
        root.Reap(victim);
        int after = root.ForkExit(0); // served by the new instance alone
        watch.ReadUntil(l => l.Contains(" exit ") && l.Contains($" {after} "), "an exit in the tree after the restart");
        root.ReapAll();
        Assert.False(watch.HasExited, string.Join("\n", watch.ErrorLines));
        StopForGood(next, store);
    }

    [Fact]
    public void A_tree_subscription_and_its_blocked_reader_get_the_fork_exec_and_exit_of_the_gap()
    {
        using var store = new FdStorePeer();
        string name = TestPaths.UniqueName();
        using var root = new KmTarget();
        using var reader = new KmClient();
        using var first = StartFirst(store, name);
        int fd = reader.Open(first.DevicePath);
        uint id = reader.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXISTING | ForkExecExit, root.Pid);
        var existing = reader.Next(fd);
        Assert.Equal((KMONITOR_PROCESS_EXISTING, 1u, root.Pid, id), (existing.Type, existing.Seq, existing.Pid, existing.Watch));

        reader.Begin($"read {fd} {64 * 64} 60000");
        reader.WaitBlocked();
        HandOver(first, store);
        int child = root.Spawn(1, "/bin/true")[0]; // forked, exec'd and exited while no daemon ran

        using var next = StartNext(store, name);
        var read = reader.FinishRead(70_000);
        Assert.True(read.Ok, read.ToString());
        var records = new List<EventRecord>(read.Records);
        if (!records.Exists(r => r.Type == KMONITOR_PROCESS_EXIT && r.Pid == child))
            records.AddRange(reader.ReadUntil(fd, r => r.Type == KMONITOR_PROCESS_EXIT && r.Pid == child));
        root.ReapAll();
        RecordAssert.SameSet([
            new(KMONITOR_PROCESS_FORK, child, root.Pid, 0, 0, id, "kmtarget"),
            new(KMONITOR_PROCESS_EXEC, child, null, 0, 0, id, "true"),
            new(KMONITOR_PROCESS_EXIT, child, null, 0, 0, id, "true")], records);
        RecordAssert.NumberedFromOne([existing, .. records]);
        Assert.Contains(next.Log, l => l.Contains("took over 1 open files, 0 registrations and 1 subscriptions"));
        Assert.Equal(1, next.Status().GetProperty("taken_over_subscriptions").GetInt32());

        Assert.Equal("ok", reader.Unsubscribe(fd, id));
        Assert.Equal("err EINVAL", reader.Unsubscribe(fd, id));
        uint renewed = reader.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXIT, root.Pid);
        Assert.Equal(id + 1, renewed);
        int marker = root.ForkExit(0);
        var after = reader.ReadUntil(fd, r => r.Type == KMONITOR_PROCESS_EXIT && r.Pid == marker);
        RecordAssert.SameSet([
            new(KMONITOR_PROCESS_FORK, marker, root.Pid, 0, 0, renewed, "kmtarget"),
            new(KMONITOR_PROCESS_EXIT, marker, null, 0, 0, renewed, "kmtarget")], after); // nothing for the old id
        root.ReapAll();
        StopForGood(next, store);
    }

    /// <summary>
    /// SIGKILL: the journal was rewritten before SUBSCRIBE was answered, so a NAME subscription made
    /// just before the kill sees a process of that name exec'd while no daemon ran.
    /// </summary>
    [Fact]
    public void A_name_subscription_survives_a_kill_and_sees_an_exec_of_the_gap()
    {
        using var store = new FdStorePeer();
        string name = TestPaths.UniqueName();
        using var program = new NamedProgram(TestPaths.Native("kmtarget"));
        using var reader = new KmClient();
        using var first = StartFirst(store, name);
        int fd = reader.Open(first.DevicePath);
        uint id = reader.SubscribeOk(fd, KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT, pattern: program.Name);
        store.WaitForStored("channel", "netlink", "state");
        var journaled = Kmonitor.Daemon.Handover.StateFormat.Read(store.Read("state"));
        Assert.Equal(id, Assert.Single(Assert.Single(journaled.Service.Files).Subscriptions).Id);

        first.Signal(Posix.SIGKILL);
        first.WaitForExit(TimeSpan.FromSeconds(10));
        using var named = new KmTarget(program.Path, null); // exec'd while no daemon runs

        using var next = StartNext(store, name);
        var exec = reader.Next(fd, 20_000);
        Assert.Equal((KMONITOR_PROCESS_EXEC, 1u, named.Pid, id, program.Name), (exec.Type, exec.Seq, exec.Pid, exec.Watch, exec.Comm));
        named.Exit(3);
        var exit = reader.Next(fd);
        Assert.Equal((KMONITOR_PROCESS_EXIT, 2u, named.Pid, id), (exit.Type, exit.Seq, exit.Pid, exit.Watch));
        Assert.Contains(next.Log, l => l.Contains("took over 1 open files, 0 registrations and 1 subscriptions"));
        Assert.True(reader.SubscribeOk(fd, KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXIT) > id);
        StopForGood(next, store);
    }
}
