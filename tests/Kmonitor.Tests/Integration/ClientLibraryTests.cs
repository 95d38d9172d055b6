using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Kmonitor.Client;
using Kmonitor.Tests.Infrastructure;

namespace Kmonitor.Tests.Integration;

// Inside the namespace: Kmonitor.Core has a KmonitorException too, which the enclosing namespace would find first.
using KmonitorException = Kmonitor.Client.KmonitorException;

/// <summary>
/// Kmonitor.Client against the real daemon (FUSE here, CUSE in the VM): every scope, records of
/// REGISTER, TryRead, the end of an enumeration, the callback layer, a slow reader's Lost event and
/// the errors' messages. Events are awaited (ReadEventsAsync with a deadline), never slept for.
/// </summary>
public class ClientLibraryTests(DaemonFixture fixture) : DeviceTest(fixture), IClassFixture<DaemonFixture>
{
    private const ProcessEvents ForkExit = ProcessEvents.ProcessFork | ProcessEvents.ProcessExit;
    private const ProcessEvents ExecExit = ProcessEvents.ProcessExec | ProcessEvents.ProcessExit;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60); // generous: the VM runs under emulation

    private KmonitorConnection Connect(string? path = null) => Own(KmonitorConnection.Open(path ?? Daemon.DevicePath));

    private static string Show(IEnumerable<ProcessEvent> events) => string.Join("\n", events);

    /// <summary>Reads through ReadEventsAsync until <paramref name="last"/> holds; fails with what came.</summary>
    private static async Task<List<ProcessEvent>> ReadUntil(KmonitorConnection connection, Func<ProcessEvent, bool> last)
    {
        var got = new List<ProcessEvent>();
        using var deadline = new CancellationTokenSource(Patience);
        await foreach (var e in connection.ReadEventsAsync(deadline.Token))
        {
            got.Add(e);
            if (last(e))
                return got;
        }
        throw new TimeoutException($"the awaited event did not come within {Patience}; got:\n{Show(got)}");
    }

    private static void NumberedFromOne(List<ProcessEvent> events) =>
        Assert.True(events.Select(e => e.Sequence).SequenceEqual(Enumerable.Range(1, events.Count).Select(i => (uint)i)),
            $"sequence numbers 1..{events.Count}:\n{Show(events)}");

    private static void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for {what}");
            Thread.Sleep(1);
        }
    }

    [Fact]
    public async Task SubscribeTree_with_Existing_reports_root_and_child_first_then_forks_and_exits_with_their_status()
    {
        var connection = Connect();
        var root = Target();
        int child = root.Fork();
        uint id = connection.SubscribeTree(root.Pid, ForkExit | ProcessEvents.Existing);
        root.ExitChild(child, 5);
        int late = root.ForkExit(0);
        var events = await ReadUntil(connection, e => e.Kind == ProcessEventKind.ProcessExit && e.Pid == late);

        Assert.True(events.Take(2).All(e => e.Kind == ProcessEventKind.Existing), Show(events));
        Assert.Equal(new[] { root.Pid, child }.Order(), events.Take(2).Select(e => e.Pid).Order());
        Assert.Equal([(ProcessEventKind.ProcessExit, child, (int?)5), (ProcessEventKind.ProcessFork, late, null), (ProcessEventKind.ProcessExit, late, 0)],
            events.Skip(2).Select(e => (e.Kind, e.Pid, e.ExitCode)));
        Assert.Equal(root.Pid, events.Single(e => e.Kind == ProcessEventKind.ProcessFork).Ppid);
        Assert.True(events.All(e => e.Watch == id && e.Name == "kmtarget"), Show(events));
        NumberedFromOne(events);
    }

    [Fact]
    public async Task SubscribeName_reports_the_running_ones_then_exec_and_exit_under_the_name()
    {
        using var program = new NamedProgram(TestPaths.Native("kmtarget"));
        var running = Own(new KmTarget(program.Path, null));
        var connection = Connect();
        uint id = connection.SubscribeName(program.Name, ExecExit | ProcessEvents.Existing);
        var spawner = Target();
        int started = spawner.Spawn(1, program.Path)[0]; // kmtarget with stdin at EOF: exits 0 at once
        var events = await ReadUntil(connection, e => e.Kind == ProcessEventKind.ProcessExit && e.Pid == started);
        spawner.ReapAll();

        Assert.Equal([(ProcessEventKind.Existing, running.Pid), (ProcessEventKind.ProcessExec, started), (ProcessEventKind.ProcessExit, started)],
            events.Select(e => (e.Kind, e.Pid)));
        Assert.True(events.All(e => e.Watch == id && e.Name == program.Name), Show(events));
        Assert.Equal("exited 0", events[^1].DescribeStatus());
    }

    [Fact]
    public async Task SubscribeRegex_matches_the_name()
    {
        using var program = new NamedProgram("/bin/true", "kmrx");
        var connection = Connect();
        uint id = connection.SubscribeRegex($"^{program.Name[..8]}[0-9a-f]+$", ExecExit);
        var spawner = Target();
        int started = spawner.Spawn(1, program.Path)[0];
        var events = await ReadUntil(connection, e => e.Kind == ProcessEventKind.ProcessExit && e.Pid == started);
        spawner.ReapAll();
        Assert.Equal([(ProcessEventKind.ProcessExec, started, program.Name, id), (ProcessEventKind.ProcessExit, started, program.Name, id)],
            events.Select(e => (e.Kind, e.Pid, e.Name, e.Watch)));
    }

    [Fact]
    public async Task SubscribeRegex_with_matchCommandLine_matches_the_arguments()
    {
        string tag = $"600.{Random.Shared.Next(100_000, 999_999)}";
        var connection = Connect();
        uint id = connection.SubscribeRegex($"^/bin/sleep {Regex.Escape(tag)}$", ExecExit, matchCommandLine: true);
        var holder = Target();
        int decoy = holder.SpawnHold($"/bin/sleep {tag}1");
        int sleeper = holder.SpawnHold($"/bin/sleep {tag}");
        // The command line is kmtarget's until the exec: the match is decided when the daemon handles the EXEC.
        WaitFor(() => File.ReadAllText($"/proc/{sleeper}/cmdline") == $"/bin/sleep\0{tag}\0", "the sleep's exec");
        holder.KillChild(decoy, Posix.SIGTERM);
        holder.KillChild(sleeper, Posix.SIGTERM);
        var events = await ReadUntil(connection, e => e.Kind == ProcessEventKind.ProcessExit && e.Pid == sleeper);
        Assert.Equal([(ProcessEventKind.ProcessExec, sleeper, "sleep", id, ""), (ProcessEventKind.ProcessExit, sleeper, "sleep", id, "killed by SIGTERM")],
            events.Select(e => (e.Kind, e.Pid, e.Name, e.Watch, e.DescribeStatus())));
    }

    [Fact]
    public async Task SubscribeAll_sees_a_new_process_among_all_the_others()
    {
        using var program = new NamedProgram("/bin/true", "kmall");
        var connection = Connect();
        uint id = connection.SubscribeAll(ProcessEvents.ProcessExec);
        var spawner = Target();
        int started = spawner.Spawn(1, program.Path)[0];
        var events = await ReadUntil(connection, e => e.Pid == started);
        spawner.ReapAll();
        Assert.Equal((ProcessEventKind.ProcessExec, program.Name, id), (events[^1].Kind, events[^1].Name, events[^1].Watch));
        Assert.True(events.All(e => e.Kind == ProcessEventKind.ProcessExec), Show(events));

        connection.Unsubscribe(id);
        var unsubscribed = Assert.Throws<KmonitorException>(() => connection.Unsubscribe(id));
        Assert.Equal(22, unsubscribed.Errno);
        Assert.Contains($"id {id}", unsubscribed.Message);
    }

    [Fact]
    public void Register_queues_records_that_TryRead_takes_without_blocking()
    {
        var connection = Connect();
        var target = Target();
        Assert.False(connection.TryRead(out _)); // nothing queued: false at once
        connection.Register(target.Pid, ProcessEvents.ProcessExit);
        target.Exit(3);
        ProcessEvent exit = default;
        WaitFor(() => connection.TryRead(out exit), "the exit record");
        Assert.Equal((ProcessEventKind.ProcessExit, 1u, target.Pid, target.Pid, (uint)target.Pid, "kmtarget", (int?)3, (int?)null),
            (exit.Kind, exit.Sequence, exit.Pid, exit.Tgid, exit.Watch, exit.Name, exit.ExitCode, exit.TermSignal));
        Assert.False(connection.TryRead(out _));
    }

    [Fact]
    public async Task Cancelling_ReadEventsAsync_ends_it_without_an_exception_and_its_thread_with_it()
    {
        var connection = Connect();
        var target = Target();
        connection.SubscribeTree(target.Pid, ForkExit);
        using var cancel = new CancellationTokenSource();
        var got = new List<ProcessEvent>();
        var reading = Task.Run(async () =>
        {
            await foreach (var e in connection.ReadEventsAsync(cancel.Token))
                got.Add(e);
        });
        WaitFor(() => connection.ReaderThread is not null, "the reader thread");
        var thread = connection.ReaderThread!;
        cancel.Cancel();
        await reading.WaitAsync(Patience); // rethrows whatever the enumeration threw: nothing may leak
        Assert.True(thread.Join(Patience), "the reader thread ended");
        Assert.Null(connection.ReaderThread);
        Assert.Empty(got);

        // The connection reads on: a new enumeration gets what came meanwhile.
        int child = target.ForkExit(2);
        var events = await ReadUntil(connection, e => e.Kind == ProcessEventKind.ProcessExit && e.Pid == child);
        Assert.Equal([(ProcessEventKind.ProcessFork, child, 1u), (ProcessEventKind.ProcessExit, child, 2u)], events.Select(e => (e.Kind, e.Pid, e.Sequence)));
    }

    [Fact]
    public async Task Events_read_but_not_taken_when_an_enumeration_ends_stay_for_TryRead()
    {
        var connection = Connect();
        var target = Target();
        connection.SubscribeTree(target.Pid, ForkExit);
        var children = Enumerable.Range(0, 3).Select(_ => target.ForkExit(0)).ToArray(); // six records
        var first = await ReadUntil(connection, _ => true); // takes one, then leaves the loop
        var rest = new List<ProcessEvent>();
        WaitFor(() =>
        {
            while (connection.TryRead(out var e))
                rest.Add(e);
            return rest.Count >= 5;
        }, "the other five records");
        var all = first.Concat(rest).ToList();
        NumberedFromOne(all);
        Assert.Equal(children.SelectMany(c => new[] { (ProcessEventKind.ProcessFork, c), (ProcessEventKind.ProcessExit, c) }),
            all.Select(e => (e.Kind, e.Pid)));
    }

    [Fact]
    public async Task Disposing_the_connection_ends_a_running_enumeration_cleanly()
    {
        var connection = KmonitorConnection.Open(Daemon.DevicePath);
        var reading = Task.Run(async () =>
        {
            await foreach (var _ in connection.ReadEventsAsync())
            {
            }
        });
        WaitFor(() => connection.ReaderThread is not null, "the reader thread");
        var thread = connection.ReaderThread!;
        await connection.DisposeAsync();
        await reading.WaitAsync(Patience);
        Assert.True(thread.Join(Patience));
    }

    [Fact]
    public void ProcessMonitor_reports_the_running_ones_first_then_exec_and_exit_and_Dispose_unsubscribes()
    {
        using var program = new NamedProgram(TestPaths.Native("kmtarget"));
        var running = Own(new KmTarget(program.Path, null));
        using var monitor = new ProcessMonitor(Daemon.DevicePath);
        using var execs = new BlockingCollection<ProcessEvent>();
        using var exits = new BlockingCollection<ProcessEvent>();
        var errors = new ConcurrentQueue<Exception>();
        monitor.Error += errors.Enqueue;
        var onExec = monitor.SubscribeExec(execs.Add, program.Name);
        using var onExit = monitor.SubscribeExit(exits.Add, program.Name);
        monitor.Initialize();

        // Delivered before Initialize returned.
        Assert.True(execs.TryTake(out var first), "the running process was reported during Initialize");
        Assert.Equal((ProcessEventKind.Existing, running.Pid, program.Name), (first.Kind, first.Pid, first.Name));
        Assert.Empty(execs);

        var spawner = Target();
        int started = spawner.Spawn(1, program.Path)[0];
        Assert.True(execs.TryTake(out var exec, Patience), "the exec callback");
        Assert.Equal((ProcessEventKind.ProcessExec, started, program.Name), (exec.Kind, exec.Pid, exec.Name));
        Assert.True(exits.TryTake(out var exit, Patience), "the exit callback");
        Assert.Equal((ProcessEventKind.ProcessExit, started, "exited 0"), (exit.Kind, exit.Pid, exit.DescribeStatus()));
        running.Exit(3);
        Assert.True(exits.TryTake(out exit, Patience), "the running one's exit");
        Assert.Equal((running.Pid, (int?)3), (exit.Pid, exit.ExitCode));

        onExec.Dispose();
        int again = spawner.Spawn(1, program.Path)[0];
        Assert.True(exits.TryTake(out exit, Patience), "the exit after the exec callback was disposed");
        Assert.Equal(again, exit.Pid);
        // Its EXEC was queued before its EXIT and callbacks run in order: had it been reported, it would be here.
        Assert.Empty(execs);
        spawner.ReapAll();
        Assert.Empty(errors);
    }

    [Fact]
    public void ProcessMonitor_without_a_name_reports_every_process_and_late_subscribers_get_the_running_ones()
    {
        using var program = new NamedProgram(TestPaths.Native("kmtarget"), "kmpm");
        var running = Own(new KmTarget(program.Path, null));
        using var monitor = new ProcessMonitor(Daemon.DevicePath);
        monitor.Initialize();
        using var execs = new BlockingCollection<ProcessEvent>();
        using var all = monitor.SubscribeExec(e => { if (e.Name == program.Name) execs.Add(e); });
        Assert.True(execs.TryTake(out var existing, Patience), "the running one, reported to a callback subscribed after Initialize");
        Assert.Equal((ProcessEventKind.Existing, running.Pid), (existing.Kind, existing.Pid));
        running.Exec();
        Assert.True(execs.TryTake(out var exec, Patience), "its exec");
        Assert.Equal((ProcessEventKind.ProcessExec, running.Pid), (exec.Kind, exec.Pid));
    }

    [Fact]
    public void ProcessMonitor_reports_a_throwing_callback_and_the_daemon_stopping_through_Error_and_delivers_on()
    {
        var daemon = DaemonProcess.Start();
        try
        {
            using var program = new NamedProgram("/bin/true", "kmerr");
            using var monitor = new ProcessMonitor(daemon.DevicePath);
            using var errors = new BlockingCollection<Exception>();
            using var exits = new BlockingCollection<ProcessEvent>();
            monitor.Error += errors.Add;
            using var throwing = monitor.SubscribeExec(e => throw new InvalidOperationException($"callback for {e.Pid}"), program.Name);
            using var onExit = monitor.SubscribeExit(exits.Add, program.Name);
            monitor.Initialize();
            var spawner = Target();
            int started = spawner.Spawn(1, program.Path)[0];
            Assert.True(errors.TryTake(out var thrown, Patience), "the callback's exception");
            Assert.Equal($"callback for {started}", thrown.Message);
            Assert.True(exits.TryTake(out var exit, Patience), "delivery went on after the exception");
            Assert.Equal(started, exit.Pid);
            spawner.ReapAll();

            Assert.Equal(0, daemon.Stop());
            Assert.True(errors.TryTake(out var stopped, Patience), "the daemon's stop");
            Assert.EndsWith("kmonitord has stopped", Assert.IsType<KmonitorException>(stopped).Message);
        }
        finally
        {
            daemon.Dispose();
        }
    }

    [Fact]
    public async Task A_reader_that_falls_behind_gets_a_Lost_event_and_the_library_holds_only_a_bounded_number()
    {
        const int spawned = 100; // 200 records: more than the library holds (two batches of 64) and the daemon's 8
        using var daemon = DaemonProcess.Start("--queue-length", "8");
        using var connection = KmonitorConnection.Open(daemon.DevicePath);
        using var marker = KmonitorConnection.Open(daemon.DevicePath);
        var spawner = Target();
        var last = Target();
        connection.SubscribeTree(spawner.Pid, ForkExit | ProcessEvents.Existing);
        marker.Register(last.Pid, ProcessEvents.ProcessExit);

        using var deadline = new CancellationTokenSource(Patience);
        await using var reader = connection.ReadEventsAsync(deadline.Token).GetAsyncEnumerator();
        Assert.True(await reader.MoveNextAsync());
        Assert.Equal((ProcessEventKind.Existing, spawner.Pid), (reader.Current.Kind, reader.Current.Pid));
        // The consumer now takes nothing while the subtree makes 200 records.
        spawner.Spawn(spawned, "/bin/true");
        spawner.ReapAll();
        last.Exit(0);
        WaitFor(() => marker.TryRead(out _), "the marker's exit (the daemon handles events in order: the burst is queued or dropped)");
        Assert.True(daemon.Counter("records_dropped") > 0, "a reader that falls behind makes the daemon drop, not the library buffer");

        var events = new List<ProcessEvent> { reader.Current };
        int accounted = 0;
        while (accounted < 2 * spawned)
        {
            Assert.True(await reader.MoveNextAsync(), $"the enumeration ended early:\n{Show(events)}");
            events.Add(reader.Current);
            accounted += reader.Current.Kind == ProcessEventKind.Lost ? reader.Current.LostCount : 1;
        }
        Assert.Equal(2 * spawned, accounted);
        Assert.Contains(events, e => e.Kind == ProcessEventKind.Lost && e.LostCount > 0);
        Assert.Equal(daemon.Counter("records_dropped"), events.Where(e => e.Kind == ProcessEventKind.Lost).Sum(e => e.LostCount));
        NumberedFromOne(events);
    }

    [Fact]
    public void Errors_say_what_was_refused()
    {
        string missing = $"/dev/{TestPaths.UniqueName("kmnone")}";
        var noDevice = Assert.Throws<KmonitorException>(() => KmonitorConnection.Open(missing));
        Assert.Equal((2, $"no {missing}: is kmonitord running?"), (noDevice.Errno, noDevice.Message));

        var connection = Connect();
        var target = Target();
        int gone = target.ForkExit(0); // exited and reaped: no such process
        var noProcess = Assert.Throws<KmonitorException>(() => connection.Register(gone, ProcessEvents.ProcessExit));
        Assert.Equal((3, $"register: no process {gone}"), (noProcess.Errno, noProcess.Message));
        noProcess = Assert.Throws<KmonitorException>(() => connection.SubscribeTree(gone, ProcessEvents.ProcessExit));
        Assert.Equal(3, noProcess.Errno);

        var badRegex = Assert.Throws<KmonitorException>(() => connection.SubscribeRegex("(", ProcessEvents.ProcessExec));
        Assert.Equal(22, badRegex.Errno);
        Assert.Contains("pattern '('", badRegex.Message);
        var longName = Assert.Throws<KmonitorException>(() => connection.SubscribeName("sixteen-bytes-xx", ProcessEvents.ProcessExec));
        Assert.Equal(22, longName.Errno);
        Assert.Contains("name 'sixteen-bytes-xx'", longName.Message);
        var notRegistered = Assert.Throws<KmonitorException>(() => connection.Deregister(target.Pid, ProcessEvents.ProcessExit));
        Assert.Equal(22, notRegistered.Errno);
        Assert.Contains($"pid {target.Pid}: no registration", notRegistered.Message);
        var existingInRegister = Assert.Throws<KmonitorException>(() => connection.Register(target.Pid, ProcessEvents.Existing | ProcessEvents.ProcessExit));
        Assert.Contains("Existing applies to subscriptions only", existingInRegister.Message);
    }

    [Fact]
    public void An_unprivileged_caller_is_told_whose_process_it_may_not_watch_and_an_outsider_to_join_the_group()
    {
        var connection = Connect(); // opened by root; the requests below are judged by the calling thread
        var rootsProcess = Target();
        var refused = ThreadAsUser.Run(SystemUsers.Member, withUserGroups: true,
            () => Assert.Throws<KmonitorException>(() => connection.Register(rootsProcess.Pid, ProcessEvents.ProcessExit)));
        Assert.Equal((1, $"register: pid {rootsProcess.Pid} is another user's process"), (refused.Errno, refused.Message));
        refused = ThreadAsUser.Run(SystemUsers.Member, withUserGroups: true,
            () => Assert.Throws<KmonitorException>(() => connection.SubscribeTree(rootsProcess.Pid, ProcessEvents.ProcessExit)));
        Assert.Equal((1, $"subscribe tree: pid {rootsProcess.Pid} is another user's process"), (refused.Errno, refused.Message));

        var outsider = ThreadAsUser.Run(SystemUsers.Outsider, withUserGroups: false,
            () => Assert.Throws<KmonitorException>(() => KmonitorConnection.Open(Daemon.DevicePath)));
        Assert.Equal((13, $"{Daemon.DevicePath}: not permitted: join the kmonitor group"), (outsider.Errno, outsider.Message));
    }

    [Fact]
    public async Task When_the_daemon_stops_calls_and_the_enumeration_say_so()
    {
        var daemon = DaemonProcess.Start();
        try
        {
            using var connection = KmonitorConnection.Open(daemon.DevicePath);
            var reading = Task.Run(async () =>
            {
                await foreach (var _ in connection.ReadEventsAsync())
                {
                }
            });
            WaitFor(() => connection.ReaderThread is not null, "the reader thread");
            Assert.Equal(0, daemon.Stop());

            var ended = await Assert.ThrowsAsync<KmonitorException>(() => reading.WaitAsync(Patience));
            Assert.Contains(ended.Errno, new[] { 107, 19 }); // ENOTCONN (FUSE, CUSE) or ENODEV (CUSE)
            Assert.EndsWith("kmonitord has stopped", ended.Message);
            var call = Assert.Throws<KmonitorException>(() => connection.Register(Environment.ProcessId, ProcessEvents.ProcessExit));
            Assert.Contains(call.Errno, new[] { 107, 19 });
            Assert.Equal("register: kmonitord has stopped", call.Message);
        }
        finally
        {
            daemon.Dispose();
        }
    }

    [Fact]
    public void The_watch_exec_sample_prints_the_running_ones_then_each_start_and_stop()
    {
        using var program = new NamedProgram(TestPaths.Native("kmtarget"), "kmwe");
        var running = Own(new KmTarget(program.Path, null));
        var sample = Own(new LineProcess("env", [$"KMONITOR_DEVICE={Daemon.DevicePath}", "dotnet", TestPaths.WatchExecSample, program.Name]));
        Expect(sample, $"running {running.Pid} {program.Name}");
        var spawner = Target();
        int started = spawner.Spawn(1, program.Path)[0];
        Expect(sample, $"started {started} {program.Name}");
        Expect(sample, $"stopped {started} {program.Name} exited 0");
        spawner.ReapAll();
        running.Exit(3);
        Expect(sample, $"stopped {running.Pid} {program.Name} exited 3");
        Posix.Kill(sample.Pid, Posix.SIGTERM);
        Assert.Equal(0, sample.WaitForExit(30_000));
    }

    private static void Expect(LineProcess sample, string line)
    {
        var got = sample.ReadLine($"'{line}'", 60_000);
        Assert.True(got == line, $"{sample.Name}: expected '{line}', got '{got}'");
    }
}
