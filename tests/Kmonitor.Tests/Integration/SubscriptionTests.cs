using System.Text.RegularExpressions;
using Kmonitor.Tests.Infrastructure;
using static Kmonitor.Abi.KmonitorAbi;
using static Kmonitor.Abi.SubscriptionAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// SUBSCRIBE and UNSUBSCRIBE through the real device: TREE (with the burst race), NAME, REGEX,
/// MATCH_CMDLINE, ALL, EXISTING, signals, every error row, close, and a monitor in a pid namespace.
/// Records are read with kmclient, one at a time, until the record a test awaits (never a sleep).
/// </summary>
public class SubscriptionTests(DaemonFixture fixture) : DeviceTest(fixture), IClassFixture<DaemonFixture>
{
    private const int Records = RecordsInsteadOfSignal;
    private const int ForkExecExit = KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT;
    private static readonly string True = "/bin/true";
    private static readonly string TrueComm = Path.GetFileName(True);

    [Fact]
    public void SUBSCRIBE_returns_ids_above_0_unique_within_the_file()
    {
        var (client, fd) = Monitor();
        var target = Target();
        uint[] ids = [.. Enumerable.Range(0, 3).Select(_ => client.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, target.Pid))];
        Assert.True(ids.All(id => id > 0) && ids.Distinct().Count() == 3, string.Join(", ", ids));
    }

    [Fact]
    public void TREE_reports_the_root_and_its_living_descendants_as_EXISTING_before_any_later_record()
    {
        var (client, fd) = Monitor();
        var root = Target();
        int child = root.Fork();
        uint id = client.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXISTING | ForkExecExit, root.Pid);
        var existing = new List<EventRecord> { client.Next(fd), client.Next(fd) };
        RecordAssert.SameSet([
            new(KMONITOR_PROCESS_EXISTING, root.Pid, null, 0, 0, id, "kmtarget"),
            new(KMONITOR_PROCESS_EXISTING, child, null, 0, 0, id, "kmtarget")], existing);
        Assert.True(existing.Single(r => r.Pid == child).Ppid == root.Pid, $"the child's EXISTING record names its parent: {EventRecord.Show(existing)}");

        root.ExitChild(child, 5);
        int late = root.ForkExit(0);
        var later = client.ReadUntil(fd, r => r.Type == KMONITOR_PROCESS_EXIT && r.Pid == late);
        RecordAssert.SameSet([
            new(KMONITOR_PROCESS_EXIT, child, null, 0, WaitStatus.Exited(5), id, "kmtarget"),
            new(KMONITOR_PROCESS_FORK, late, root.Pid, 0, 0, id, "kmtarget"),
            new(KMONITOR_PROCESS_EXIT, late, null, 0, 0, id, "kmtarget")], later);
        RecordAssert.NumberedFromOne([.. existing, .. later]);
    }

    [Fact]
    public void TREE_sees_every_fork_exec_and_exit_of_a_burst_of_grandchildren_exactly_once()
    {
        const int children = 10, grandchildren = 5;
        var (client, fd) = Monitor();
        var root = Target();
        uint id = client.SubscribeOk(fd, KMONITOR_SCOPE_TREE, ForkExecExit, root.Pid);
        var tree = root.Tree(children, grandchildren); // each child exits as soon as it has forked; the grandchildren exec and exit at once
        int marker = root.ForkExit(0);                 // after the whole burst: its EXIT is the last record
        var records = client.ReadUntil(fd, r => r.Type == KMONITOR_PROCESS_EXIT && r.Pid == marker, 120_000);
        root.ReapAll();

        var expected = new List<Expected>();
        foreach (var (child, grands) in tree)
        {
            expected.Add(new(KMONITOR_PROCESS_FORK, child, root.Pid, 0, 0, id, "kmtarget"));
            expected.Add(new(KMONITOR_PROCESS_EXIT, child, null, 0, 0, id, "kmtarget"));
            foreach (int g in grands)
            {
                expected.Add(new(KMONITOR_PROCESS_FORK, g, child, 0, 0, id, "kmtarget"));
                expected.Add(new(KMONITOR_PROCESS_EXEC, g, null, 0, 0, id, TrueComm));
                expected.Add(new(KMONITOR_PROCESS_EXIT, g, null, 0, 0, id, TrueComm));
            }
        }
        expected.Add(new(KMONITOR_PROCESS_FORK, marker, root.Pid, 0, 0, id, "kmtarget"));
        expected.Add(new(KMONITOR_PROCESS_EXIT, marker, null, 0, 0, id, "kmtarget"));
        RecordAssert.SameSet(expected, records);
        RecordAssert.NumberedFromOne(records);
        RecordAssert.WellFormed(records);
    }

    [Fact]
    public void TREE_reports_the_thread_events_of_its_members()
    {
        var (client, fd) = Monitor();
        var root = Target();
        uint id = client.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_THREAD_CREATE | KMONITOR_THREAD_EXIT, root.Pid);
        int tid = root.Thread();
        root.EndThread(tid);
        var records = new List<EventRecord> { client.Next(fd), client.Next(fd) };
        Assert.True(records.Select(r => (r.Type, r.Seq, r.Pid, r.Tgid, r.Watch, r.Comm)).SequenceEqual([
            (KMONITOR_THREAD_CREATE, 1u, tid, root.Pid, id, "kmtarget"),
            (KMONITOR_THREAD_EXIT, 2u, tid, root.Pid, id, "kmtarget")]), EventRecord.Show(records));
        Assert.True(records[0].Ppid == root.Pid, $"THREAD_CREATE's ppid is the process that forked: {records[0]}");
    }

    [Fact]
    public void NAME_sees_200_short_lived_processes_start_and_stop_exactly_once_each()
    {
        using var program = new NamedProgram(True);
        var (client, fd) = Monitor();
        var spawner = Target();
        uint id = client.SubscribeOk(fd, KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT, pattern: program.Name);
        int[] pids = spawner.Spawn(200, program.Path); // all exited (zombies, so their names stay readable)
        int last = spawner.Spawn(1, program.Path)[0];
        var records = client.ReadUntil(fd, r => r.Type == KMONITOR_PROCESS_EXIT && r.Pid == last, 120_000);
        spawner.ReapAll();

        RecordAssert.SameSet(pids.Append(last).SelectMany(pid => new Expected[]
        {
            new(KMONITOR_PROCESS_EXEC, pid, null, 0, 0, id, program.Name),
            new(KMONITOR_PROCESS_EXIT, pid, null, 0, 0, id, program.Name),
        }), records);
        RecordAssert.NumberedFromOne(records);
        // Not names_unread: the daemon is shared with tests running meanwhile, whose short-lived
        // processes count there too (the unit tests of the engine check the counter).
    }

    [Fact]
    public void NAME_reports_the_running_matches_as_EXISTING_first_then_their_exec_and_exit()
    {
        using var program = new NamedProgram(TestPaths.Native("kmtarget"));
        var (client, fd) = Monitor();
        var first = Own(new KmTarget(program.Path, null));
        var second = Own(new KmTarget(program.Path, null));
        uint id = client.SubscribeOk(fd, KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXISTING | KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT, pattern: program.Name);
        var existing = new List<EventRecord> { client.Next(fd), client.Next(fd) };
        RecordAssert.SameSet([
            new(KMONITOR_PROCESS_EXISTING, first.Pid, null, 0, 0, id, program.Name),
            new(KMONITOR_PROCESS_EXISTING, second.Pid, null, 0, 0, id, program.Name)], existing);

        first.Exec(); // the same file again: still the name
        second.Exit(4);
        var later = client.ReadUntil(fd, r => r.Type == KMONITOR_PROCESS_EXIT && r.Pid == second.Pid);
        RecordAssert.SameSet([
            new(KMONITOR_PROCESS_EXEC, first.Pid, null, 0, 0, id, program.Name),
            new(KMONITOR_PROCESS_EXIT, second.Pid, null, 0, WaitStatus.Exited(4), id, program.Name)], later);
        RecordAssert.NumberedFromOne([.. existing, .. later]);
    }

    [Fact]
    public void NAME_follows_renames_and_the_exit_record_keeps_the_name()
    {
        string name = $"kmc{Guid.NewGuid().ToString("N")[..12]}";
        var (client, fd) = Monitor();
        var early = Target();
        early.Rename(name);
        uint id = client.SubscribeOk(fd, KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXISTING | KMONITOR_PROCESS_EXIT, pattern: name);
        var existing = client.Next(fd);
        RecordAssert.SameSet([new(KMONITOR_PROCESS_EXISTING, early.Pid, null, 0, 0, id, name)], [existing]);

        var late = Target();
        late.RenameThroughProc(name);   // joins at its COMM event
        var away = Target();
        away.Rename(name);
        away.Rename("kmt-elsewhere");   // and leaves at the next one
        away.Exit(0);
        late.Exit(1);
        early.Exit(2);
        var exits = client.ReadUntil(fd, r => r.Type == KMONITOR_PROCESS_EXIT && r.Pid == early.Pid);
        Assert.True(exits.Select(r => (r.Type, r.Pid, r.Status, r.Comm)).SequenceEqual([
            (KMONITOR_PROCESS_EXIT, late.Pid, WaitStatus.Exited(1), name),
            (KMONITOR_PROCESS_EXIT, early.Pid, WaitStatus.Exited(2), name)]), EventRecord.Show(exits));
        RecordAssert.NumberedFromOne([existing, .. exits]);
    }

    [Fact]
    public void REGEX_matches_names_with_POSIX_extended_syntax()
    {
        using var matching = new NamedProgram(True, "kmtr");
        using var other = new NamedProgram(True, "kmto");
        var (client, fd) = Monitor();
        var spawner = Target();
        string pattern = $"^{matching.Name[..8]}[0-9a-f]+$"; // the prefix, then hex digits: ERE bracket and +
        uint id = client.SubscribeOk(fd, KMONITOR_SCOPE_REGEX, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT, pattern: pattern);
        spawner.Spawn(2, other.Path);
        int[] pids = [.. spawner.Spawn(3, matching.Path), .. spawner.Spawn(1, matching.Path)]; // the last one after all others
        var records = client.ReadUntil(fd, r => r.Type == KMONITOR_PROCESS_EXIT && r.Pid == pids[^1], 60_000);
        spawner.ReapAll();
        RecordAssert.SameSet(pids.SelectMany(pid => new Expected[]
        {
            new(KMONITOR_PROCESS_EXEC, pid, null, 0, 0, id, matching.Name),
            new(KMONITOR_PROCESS_EXIT, pid, null, 0, 0, id, matching.Name),
        }), records);
    }

    [Fact]
    public void REGEX_with_MATCH_CMDLINE_matches_the_command_line_of_running_and_new_processes()
    {
        string tag = $"600.{Random.Shared.Next(100_000, 999_999)}";
        var (client, fd) = Monitor();
        var holder = Target();
        int before = holder.SpawnHold($"/bin/sleep {tag}");
        WaitForCmdline(before, $"/bin/sleep\0{tag}\0");
        int decoy = holder.SpawnHold($"/bin/sleep {tag}1");
        WaitForCmdline(decoy, $"/bin/sleep\0{tag}1\0");
        uint id = client.SubscribeOk(fd, KMONITOR_SCOPE_REGEX, KMONITOR_PROCESS_EXISTING | KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT,
            flags: KMONITOR_MATCH_CMDLINE, pattern: $"^/bin/sleep {Regex.Escape(tag)}$");
        int after = holder.SpawnHold($"/bin/sleep {tag}");
        WaitForCmdline(after, $"/bin/sleep\0{tag}\0");
        Assert.Equal(Posix.SIGTERM, holder.KillChild(decoy, Posix.SIGTERM));
        Assert.Equal(Posix.SIGTERM, holder.KillChild(before, Posix.SIGTERM));
        Assert.Equal(Posix.SIGTERM, holder.KillChild(after, Posix.SIGTERM));
        var records = client.ReadUntil(fd, r => r.Type == KMONITOR_PROCESS_EXIT && r.Pid == after);
        Assert.True(records.Select(r => (r.Type, r.Pid, r.Status, r.Watch, r.Comm)).SequenceEqual([
            (KMONITOR_PROCESS_EXISTING, before, 0, id, "sleep"),
            (KMONITOR_PROCESS_EXEC, after, 0, id, "sleep"),
            (KMONITOR_PROCESS_EXIT, before, WaitStatus.Killed(Posix.SIGTERM), id, "sleep"),
            (KMONITOR_PROCESS_EXIT, after, WaitStatus.Killed(Posix.SIGTERM), id, "sleep")]), EventRecord.Show(records));
        RecordAssert.NumberedFromOne(records);
    }

    [Fact]
    public void ALL_reports_every_process_with_seq_numbers_that_never_skip()
    {
        var (client, fd) = Monitor();
        var target = Target();
        uint id = client.SubscribeOk(fd, KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT);
        target.Exec();
        target.Exit(6);
        var records = client.ReadUntil(fd, r => r.Type == KMONITOR_PROCESS_EXIT && r.Pid == target.Pid, 60_000);
        var mine = records.Where(r => r.Pid == target.Pid).ToList();
        RecordAssert.SameSet([
            new(KMONITOR_PROCESS_EXEC, target.Pid, null, 0, 0, id, "kmtarget"),
            new(KMONITOR_PROCESS_EXIT, target.Pid, null, 0, WaitStatus.Exited(6), id, "kmtarget")], mine);
        Assert.True(mine[0].Type == KMONITOR_PROCESS_EXEC, EventRecord.Show(mine));
        RecordAssert.NumberedFromOne(records);
        RecordAssert.WellFormed(records);
    }

    [Fact]
    public void A_subscription_with_a_signal_sends_it_for_EXISTING_and_later_events_and_queues_no_record()
    {
        var (client, fd) = Monitor();
        var target = Target();
        client.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXISTING | KMONITOR_PROCESS_EXIT, target.Pid, KmClient.Signal);
        Assert.Equal(new Notification(KmClient.Signal, Notification.SI_QUEUE, target.Pid, 0, KMONITOR_PROCESS_EXISTING), client.Expect());
        target.Exit(0);
        Assert.Equal(new Notification(KmClient.Signal, Notification.SI_QUEUE, target.Pid, 0, KMONITOR_PROCESS_EXIT), client.Expect());
        Assert.Empty(client.Drain(fd));
    }

    [Fact]
    public void Each_matching_registration_and_subscription_gets_its_own_record()
    {
        var (client, fd) = Monitor();
        var target = Target();
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXIT, Records);
        uint first = client.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, target.Pid);
        uint second = client.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, target.Pid);
        target.Exit(0);
        var records = new List<EventRecord> { client.Next(fd), client.Next(fd), client.Next(fd) };
        RecordAssert.SameSet(new[] { (uint)target.Pid, first, second }.Select(watch =>
            new Expected(KMONITOR_PROCESS_EXIT, target.Pid, null, 0, 0, watch, "kmtarget")), records);
        Assert.Empty(client.Drain(fd));
    }

    [Fact]
    public void UNSUBSCRIBE_stops_the_records_and_an_id_the_file_does_not_have_is_EINVAL()
    {
        var (client, fd) = Monitor();
        int otherFd = client.Open(Daemon.DevicePath);
        var target = Target();
        var marker = Target();
        uint id = client.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, target.Pid);
        Assert.Equal("err EINVAL", client.Unsubscribe(fd, 0));
        Assert.Equal("err EINVAL", client.Unsubscribe(fd, id + 1000));
        Assert.Equal("err EINVAL", client.Unsubscribe(otherFd, id)); // another file's
        Assert.Equal("ok", client.Unsubscribe(fd, id));
        Assert.Equal("err EINVAL", client.Unsubscribe(fd, id));      // gone now
        client.RegisterOk(fd, marker.Pid, KMONITOR_PROCESS_EXIT, Records);
        target.Exit(0);
        marker.Exit(0);
        var next = client.Next(fd);
        Assert.True((next.Type, next.Pid, next.Seq) == (KMONITOR_PROCESS_EXIT, marker.Pid, 1u), $"nothing for the unsubscribed tree before the marker: {next}");
    }

    public static TheoryData<uint, int, int, int, uint, string, string> InvalidRequests => new()
    {
        { 0, KMONITOR_PROCESS_EXIT, 0, 0, 0, "x", "scope 0" },
        { 5, KMONITOR_PROCESS_EXIT, 0, 0, 0, "x", "scope 5" },
        { KMONITOR_SCOPE_ALL, 0, 0, 0, 0, "", "type 0" },
        { KMONITOR_SCOPE_ALL, 0x100, 0, 0, 0, "", "an unknown type bit" },
        { KMONITOR_SCOPE_ALL, KMONITOR_EVENT_LOST, 0, 0, 0, "", "LOST is not a type to ask for" },
        { KMONITOR_SCOPE_ALL, -1, 0, 0, 0, "", "every bit" },
        { KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXIT, 0, -1, 0, "", "signal -1" },
        { KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXIT, 0, 65, 0, "", "signal 65" },
        { KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXIT, 0, 0, 0, "", "an empty NAME" },
        { KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXIT, 0, 0, 0, "abcdefghijklmnop", "a NAME of 16 bytes" },
        { KMONITOR_SCOPE_REGEX, KMONITOR_PROCESS_EXIT, 0, 0, 0, "(", "a REGEX that does not compile: (" },
        { KMONITOR_SCOPE_REGEX, KMONITOR_PROCESS_EXIT, 0, 0, 0, "[a", "a REGEX that does not compile: [a" },
        { KMONITOR_SCOPE_REGEX, KMONITOR_PROCESS_EXIT, 0, 0, 2, "a", "an unknown flag" },
        { KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXIT, 0, 0, KMONITOR_MATCH_CMDLINE, "a", "MATCH_CMDLINE on NAME" },
        { KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXIT, 0, 0, KMONITOR_MATCH_CMDLINE, "", "MATCH_CMDLINE on ALL" },
        { KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, -2, 0, KMONITOR_MATCH_CMDLINE, "", "MATCH_CMDLINE on TREE" },
        { KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, 0, 0, 0, "", "TREE with pid 0" },
        { KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, -1, 0, 0, "", "TREE with pid -1" },
    };

    /// <summary>Every EINVAL row of the issue; pid -2 stands for a running process (this test's).</summary>
    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public void SUBSCRIBE_refuses_with_EINVAL(uint scope, int type, int pid, int signal, uint flags, string pattern, string why)
    {
        var (client, fd) = Monitor();
        Assert.True(client.Subscribe(fd, scope, type, pid == -2 ? Environment.ProcessId : pid, signal, flags, pattern) == "err EINVAL", why);
    }

    [Fact]
    public void A_pattern_with_no_NUL_is_EINVAL_for_NAME_and_REGEX_and_ignored_by_TREE_and_ALL()
    {
        var (client, fd) = Monitor();
        var target = Target();
        Assert.Equal("err EINVAL", client.SubscribeFilled(fd, KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXIT, (byte)'a'));
        Assert.Equal("err EINVAL", client.SubscribeFilled(fd, KMONITOR_SCOPE_REGEX, KMONITOR_PROCESS_EXIT, (byte)'a'));
        Assert.StartsWith("ok ", client.SubscribeFilled(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, (byte)'a', target.Pid));
        Assert.StartsWith("ok ", client.SubscribeFilled(fd, KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXIT, (byte)'a'));
    }

    [Fact]
    public void TREE_on_a_root_that_is_not_running_is_ESRCH()
    {
        var (client, fd) = Monitor();
        var parent = Target();
        Assert.Equal("err ESRCH", client.Subscribe(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, int.MaxValue));
        int reaped = parent.ForkExit(0);
        Assert.Equal("err ESRCH", client.Subscribe(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, reaped));
        int zombie = parent.Fork();
        parent.ExitChild(zombie, 0); // answered once it is a zombie
        Assert.Equal("err ESRCH", client.Subscribe(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, zombie));
    }

    [Theory]
    [InlineData(KMONITOR_IOWR_SUBSCRIBE)]
    [InlineData(KMONITOR_IOW_UNSUBSCRIBE)]
    public void An_unreadable_argument_is_EFAULT(uint cmd)
    {
        var (client, fd) = Monitor();
        Assert.Equal("err EFAULT", client.IoctlPointer(fd, cmd, 0));
        Assert.Equal("err EFAULT", client.IoctlPointer(fd, cmd, 8));
    }

    [Fact]
    public void Past_the_limits_SUBSCRIBE_is_ENOSPC()
    {
        // Assumed: subscriptions count against the same per-file and per-uid limits as registrations.
        using var daemon = DaemonProcess.Start("--max-per-file", "2", "--max-per-uid", "3");
        var client = Own(new KmClient());
        int fd = client.Open(daemon.DevicePath);
        Assert.StartsWith("ok ", client.Subscribe(fd, KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXIT));
        Assert.StartsWith("ok ", client.Subscribe(fd, KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXEC));
        Assert.Equal("err ENOSPC", client.Subscribe(fd, KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_FORK));
        int other = client.Open(daemon.DevicePath);
        Assert.StartsWith("ok ", client.Subscribe(other, KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXIT));
        Assert.Equal("err ENOSPC", client.Subscribe(other, KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXEC)); // the uid's 3 are used
    }

    [Fact]
    public void Close_drops_the_files_subscriptions_and_records()
    {
        using var daemon = DaemonProcess.Start(); // its own: the status counts this test's subscriptions only
        var client = Own(new KmClient());
        int fd = client.Open(daemon.DevicePath);
        int stays = client.Open(daemon.DevicePath);
        var signalled = Target();
        var recorded = Target();
        client.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, signalled.Pid, KmClient.Signal);
        client.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_FORK, recorded.Pid);
        recorded.ForkExit(0); // a record left queued on fd
        Assert.Equal(2, daemon.Status().GetProperty("subscriptions").GetInt32());
        Assert.Equal("ok", client.Close(fd));
        AssertNothingQueued(client, stays); // an ioctl on another file: the release has been handled before it returns
        Assert.Equal(0, daemon.Status().GetProperty("subscriptions").GetInt32());
        signalled.Exit(0);
        AssertNothingQueued(client, stays); // no signal from the dropped signal subscription
    }

    [Fact]
    public void A_monitor_in_its_own_pid_namespace_sees_its_pids_and_only_its_processes()
    {
        // unshare: a new pid namespace with its own /proc; inside, a sleep to watch and the monitor,
        // which announces the sleep's pid as it sees it.
        string script = $"sleep 600 & echo \"ok $!\"; exec {TestPaths.Native("kmclient")}";
        var monitor = Own(new KmClient("unshare", ["--pid", "--fork", "--mount-proc", "sh", "-c", script]));
        int local = int.Parse(monitor.ReadLine("the sleep's pid").Split(' ')[1]);
        int fd = monitor.Open(Daemon.DevicePath);
        uint tree = monitor.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXISTING | KMONITOR_PROCESS_EXIT, local);
        var existing = monitor.Next(fd);
        Assert.True((existing.Type, existing.Pid, existing.Tgid, existing.Watch, existing.Comm) == (KMONITOR_PROCESS_EXISTING, local, local, tree, "sleep"),
            $"EXISTING in the namespace's pids: {existing}");
        Assert.True(existing.Ppid is 1 or 0, $"its parent is the namespace's init (1): {existing}");
        uint all = monitor.SubscribeOk(fd, KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXIT);

        var outside = Target();
        outside.Exit(0);                 // not in the namespace: nothing
        int sleeper = ChildOf(ChildOf(monitor.Pid)); // unshare -> the namespace's init (kmclient) -> sleep
        Posix.Kill(sleeper, Posix.SIGTERM);
        var exits = new List<EventRecord> { monitor.Next(fd), monitor.Next(fd) };
        RecordAssert.SameSet(new[] { tree, all }.Select(watch =>
            new Expected(KMONITOR_PROCESS_EXIT, local, null, 0, WaitStatus.Killed(Posix.SIGTERM), watch, "sleep")), exits);
        RecordAssert.NumberedFromOne([existing, .. exits]);
    }

    private static void WaitForCmdline(int pid, string cmdline)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        string now = "";
        while ((now = ReadOrEmpty($"/proc/{pid}/cmdline")) != cmdline)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{pid}'s command line is '{now.Replace('\0', ' ')}', not '{cmdline.Replace('\0', ' ')}'");
            Thread.Sleep(1);
        }
    }

    private static string ReadOrEmpty(string path)
    {
        try { return File.ReadAllText(path); }
        catch (IOException) { return ""; }
    }

    private static int ChildOf(int pid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            string children = ReadOrEmpty($"/proc/{pid}/task/{pid}/children").Trim();
            if (children.Length > 0)
                return int.Parse(children.Split(' ')[0]);
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{pid} has no child");
            Thread.Sleep(10);
        }
    }
}
