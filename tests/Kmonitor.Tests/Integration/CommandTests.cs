using System.Diagnostics;
using System.Text.Json;
using Kmonitor.Tests.Infrastructure;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// The kmonitor command as a user runs it: a process of its own against the shared test daemon,
/// as root and as a member of the kmonitor group (the fixture makes the group before the daemon
/// starts, so the device is root:kmonitor 0660). Output is checked line by line and as JSON.
/// </summary>
public class CommandTests(AccessFixture fixture) : IClassFixture<AccessFixture>, IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private DaemonProcess Daemon => fixture.Daemon;

    public static TheoryData<string?> Users => new() { null, SystemUsers.Member };

    private T Own<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
            _owned[i].Dispose();
    }

    private KmonitorCommand Start(string? runAs, params string[] args) =>
        Own(new KmonitorCommand(["--device", Daemon.DevicePath, .. args], runAs));

    private (int Code, List<string> Out, IReadOnlyList<string> Err) Run(string? runAs, params string[] args) =>
        KmonitorCommand.Run(["--device", Daemon.DevicePath, .. args], runAs);

    /// <summary>
    /// Until the daemon shows <paramref name="command"/> holding <paramref name="registrations"/>
    /// registrations: then what it waits for may end (before, its REGISTER could find no process).
    /// </summary>
    private void WaitUntilRegistered(KmonitorCommand command, int registrations) =>
        Daemon.WaitForStatus(status => status.GetProperty("monitors").EnumerateArray()
                .Any(m => m.GetProperty("pid").GetInt32() == command.Pid && m.GetProperty("registrations").GetInt32() == registrations),
            $"kmonitor {command.Pid} holding {registrations} registrations");

    /// <summary>TIME EVENT PID PPID UID NAME [STATUS...]</summary>
    private static (string Event, int Pid, int Ppid, uint Uid, string Name, string Status) Fields(string line)
    {
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(f.Length >= 6, $"not a watch line: '{line}'");
        Assert.Matches(@"^\d\d:\d\d:\d\d\.\d{6}$", f[0]);
        return (f[1], int.Parse(f[2]), int.Parse(f[3]), uint.Parse(f[4]), f[5], string.Join(' ', f[6..]));
    }

    private static uint UidOf(string? user) => user is null ? 0 : SystemUsers.Uid(user);

    // ---- watch ----------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Users))]
    public void Watch_tree_prints_one_line_per_event_with_the_exit_status(string? user)
    {
        var target = Own(new KmTarget(user));
        var watch = Start(user, "watch", "--tree", target.Pid.ToString(), "--existing");
        // The EXISTING line of the root says the subscription is in place: what follows is ordered.
        var first = Fields(watch.ReadLine("the root's existing line"));
        Assert.Equal(("existing", target.Pid, UidOf(user), "kmtarget"), (first.Event, first.Pid, first.Uid, first.Name));

        int child = target.Fork();
        target.ExitChild(child, 3);
        var fork = Fields(watch.ReadLine("the fork"));
        Assert.Equal(("fork", child, target.Pid, "kmtarget"), (fork.Event, fork.Pid, fork.Ppid, fork.Name));
        var exit = Fields(watch.ReadLine("the child's exit"));
        Assert.Equal(("exit", child, target.Pid, "kmtarget", "exited 3"), (exit.Event, exit.Pid, exit.Ppid, exit.Name, exit.Status));

        var (killed, _) = target.ForkKill(Posix.SIGTERM);
        Assert.Equal("fork", Fields(watch.ReadLine("the second fork")).Event);
        var death = Fields(watch.ReadLine("the second child's exit"));
        Assert.Equal(("exit", killed, "killed by SIGTERM"), (death.Event, death.Pid, death.Status));

        Posix.Kill(watch.Pid, Posix.SIGINT);
        Assert.Equal(130, watch.WaitForExit());
        Assert.Empty(watch.ReadToEnd());
        Assert.Empty(watch.ErrorLines);
    }

    [Theory]
    [MemberData(nameof(Users))]
    public void Watch_name_sleep_existing_json_reports_a_sleep_started_before_and_its_end(string? user)
    {
        // `sleep` as the README types it; other sleeps on the machine may be reported too.
        var sleep = Own(new LineProcess("sleep", ["600"], runAs: user));
        var watch = Start(user, "watch", "--name", "sleep", "--existing", "--json");
        var (line, _) = watch.ReadUntil(l => JsonDocument.Parse(l).RootElement.GetProperty("pid").GetInt32() == sleep.Pid,
            $"the existing line of sleep {sleep.Pid}");
        var existing = JsonDocument.Parse(line).RootElement;
        Assert.Equal("existing", existing.GetProperty("event").GetString());
        Assert.Equal("sleep", existing.GetProperty("name").GetString());
        Assert.Equal(UidOf(user), existing.GetProperty("uid").GetUInt32());
        Assert.Equal(sleep.Pid, existing.GetProperty("tgid").GetInt32());
        Assert.True(existing.GetProperty("seq").GetUInt32() >= 1);
        Assert.True(existing.GetProperty("time_ns").GetUInt64() > 0);
        Assert.True(DateTimeOffset.TryParse(existing.GetProperty("time").GetString(), out var time)
            && Math.Abs((time - DateTimeOffset.UtcNow).TotalMinutes) < 5, $"time {existing.GetProperty("time")}");

        Posix.Kill(sleep.Pid, Posix.SIGTERM);
        var (exitLine, _) = watch.ReadUntil(l =>
        {
            var e = JsonDocument.Parse(l).RootElement;
            return e.GetProperty("pid").GetInt32() == sleep.Pid && e.GetProperty("event").GetString() == "exit";
        }, $"the exit of sleep {sleep.Pid}");
        var exit = JsonDocument.Parse(exitLine).RootElement;
        Assert.Equal("sleep", exit.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, exit.GetProperty("exit_code").ValueKind);
        Assert.Equal(Posix.SIGTERM, exit.GetProperty("signal").GetInt32());
        Assert.False(exit.GetProperty("core_dumped").GetBoolean());
        Assert.Equal(Posix.SIGTERM, exit.GetProperty("wait_status").GetInt32());
        Assert.Equal("killed by SIGTERM", exit.GetProperty("status").GetString());

        Posix.Kill(watch.Pid, Posix.SIGINT);
        Assert.Equal(130, watch.WaitForExit());
    }

    [Fact]
    public void Watch_rejects_two_scopes_and_unknown_events_with_exit_2()
    {
        var twoScopes = Run(null, "watch", "--pid", "1", "--name", "sleep");
        Assert.Equal(2, twoScopes.Code);
        Assert.Contains(twoScopes.Err, l => l.Contains("at most one of --pid, --tree, --name, --regex and --all"));
        var unknown = Run(null, "watch", "--events", "fork,explode");
        Assert.Equal(2, unknown.Code);
        Assert.Contains(unknown.Err, l => l.Contains("unknown event 'explode'"));
    }

    // ---- wait -----------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Users))]
    public void Wait_prints_how_each_ended_and_exits_with_the_status_of_the_last(string? user)
    {
        var first = Own(new KmTarget(user));
        var second = Own(new KmTarget(user));
        var wait = Start(user, "wait", first.Pid.ToString(), second.Pid.ToString());
        WaitUntilRegistered(wait, 2);
        first.Exit(4);
        Assert.Equal($"{first.Pid} kmtarget exited 4", wait.ReadLine("the first exit"));
        Posix.Kill(second.Pid, Posix.SIGTERM);
        Assert.Equal($"{second.Pid} kmtarget killed by SIGTERM", wait.ReadLine("the second exit"));
        Assert.Equal(128 + Posix.SIGTERM, wait.WaitForExit());
    }

    [Fact]
    public void Wait_count_returns_after_that_many_with_the_status_of_the_last_of_them()
    {
        var first = Own(new KmTarget());
        var second = Own(new KmTarget());
        var wait = Start(null, "wait", "--count", "1", first.Pid.ToString(), second.Pid.ToString());
        WaitUntilRegistered(wait, 2);
        second.Exit(9);
        Assert.Equal(9, wait.WaitForExit());
        Assert.Equal([$"{second.Pid} kmtarget exited 9"], wait.ReadToEnd());
    }

    [Fact]
    public void Wait_times_out_with_124_naming_what_still_runs()
    {
        var target = Own(new KmTarget());
        var watch = Stopwatch.StartNew();
        var (code, output, errors) = Run(null, "wait", "--timeout", "0.5", target.Pid.ToString());
        Assert.Equal(124, code);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(0.5), $"gave up after {watch.Elapsed}");
        Assert.Empty(output);
        Assert.Equal([$"kmonitor: timed out after 0.5 s; still running: {target.Pid}"], errors);
        Assert.False(target.HasExited);
    }

    [Theory]
    [MemberData(nameof(Users))]
    public void Wait_for_a_pid_that_is_not_running_fails_at_once(string? user)
    {
        int gone = ExitedPid();
        var watch = Stopwatch.StartNew();
        var (code, output, errors) = Run(user, "wait", gone.ToString());
        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Single(errors);
        Assert.Contains($"no process {gone}", errors[0]);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");

        // --exited: it counts as ended, as util-linux waitpid has it.
        var exited = Run(user, "wait", "--exited", gone.ToString());
        Assert.Equal(0, exited.Code);
        Assert.Equal([$"{gone} was not running"], exited.Out);
    }

    [Fact]
    public void Wait_for_another_users_process_as_a_member_is_refused_by_name()
    {
        var roots = Own(new KmTarget());
        var (code, _, errors) = Run(SystemUsers.Member, "wait", roots.Pid.ToString());
        Assert.Equal(1, code);
        Assert.Single(errors);
        Assert.Contains($"pid {roots.Pid} is another user's process", errors[0]);
    }

    private static int ExitedPid()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    // ---- run ------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Users))]
    public void Run_shows_the_tree_of_the_READMEs_command_and_exits_with_its_status(string? user)
    {
        // The daemon reads an exec's name from /proc when it handles the EXEC; a daemon later than
        // ls is quick (fresh and unjitted, or under emulation in the VM) finds it reaped, and ls
        // keeps the name sh: its names_unread window. One run first puts the daemon's exec path in
        // shape; and a name is required only while names_unread (this class's daemon) says it was read.
        Run(user, "run", "--", "sh", "-c", "ls >/dev/null");
        long unreadBefore = Daemon.Counter("names_unread");
        var (code, lines, errors) = Run(user, "run", "--", "sh", "-c", "sleep 0.1 & ls >/dev/null; wait");
        long unread = Daemon.Counter("names_unread") - unreadBefore;
        Assert.True(code == 0, $"exit {code}; stderr: {string.Join(" | ", errors)}");
        Assert.Empty(errors);
        // ELAPSED PID [indent]EVENT NAME ...
        var events = lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(f => (Event: f[2], Pid: int.Parse(f[1]), Name: f[3], Detail: string.Join(' ', f[4..]))).ToList();
        string all = string.Join("\n", lines) + $"\n(names unread during the run: {unread})";
        Assert.True(events[0] is { Event: "exec", Name: "sh" }, all);
        int root = events[0].Pid;
        Assert.True(events[^1].Event == "exit" && events[^1].Pid == root && events[^1].Detail.StartsWith("exited 0 after "), all);
        var children = events.Where(e => e.Event == "fork").Select(e => e.Pid).ToList();
        Assert.True(children.Count == 2, all);
        var names = new List<string>();
        foreach (int child in children)
        {
            int fork = events.FindIndex(e => e.Event == "fork" && e.Pid == child);
            int exec = events.FindIndex(e => e.Event == "exec" && e.Pid == child);
            int exit = events.FindIndex(e => e.Event == "exit" && e.Pid == child);
            Assert.True(fork >= 0 && fork < exec && exec < exit, $"{child}: fork, exec, exit in order\n{all}");
            Assert.Equal($"(child of {root})", events[fork].Detail);
            Assert.StartsWith("exited 0 after ", events[exit].Detail);
            Assert.StartsWith("  exec ", lines[exec][18..]); // indented one level below the command
            Assert.Equal(events[exec].Name, events[exit].Name); // the exit carries the name from the exec
            names.Add(events[exec].Name);
        }
        if (unread == 0)
            Assert.True(names.Order().SequenceEqual(["ls", "sleep"]), all);
        else
            Assert.True(names.Contains("sleep") || names.Contains("ls"), all); // at most one was too quick
        Assert.Equal(3, events.Count(e => e.Event == "exit"));
    }

    [Fact]
    public void Run_exits_with_the_commands_exit_code_or_128_plus_its_signal()
    {
        Assert.Equal(7, Run(null, "run", "--", "sh", "-c", "exit 7").Code);
        var killed = Run(null, "run", "--", "sh", "-c", "kill -TERM $$");
        Assert.Equal(128 + Posix.SIGTERM, killed.Code);
        Assert.Contains("killed by SIGTERM", killed.Out[^1]);
        var missing = Run(null, "run", "--", "/nonexistent/program");
        Assert.Equal(127, missing.Code); // as the shell says it
    }

    [Fact]
    public void Run_ended_by_SIGTERM_passes_it_to_the_command_and_exits_143()
    {
        var run = Start(null, "run", "--", "sleep", "600");
        var exec = run.ReadLine("the exec of sleep").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(("exec", "sleep"), (exec[2], exec[3]));
        int sleep = int.Parse(exec[1]);
        Posix.Kill(run.Pid, Posix.SIGTERM);
        Assert.Equal(128 + Posix.SIGTERM, run.WaitForExit());
        // Its parent gone, the killed sleep is reaped by init (or a subreaper): its /proc entry goes.
        bool Ended()
        {
            try
            {
                return File.ReadAllText($"/proc/{sleep}/stat").Contains(") Z ");
            }
            catch (IOException)
            {
                return true; // reaped
            }
        }
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!Ended() && DateTime.UtcNow < deadline)
            Thread.Sleep(20);
        Assert.True(Ended(), $"sleep {sleep} still runs");
    }

    [Fact]
    public void Run_into_a_file_keeps_the_commands_own_output_beside_the_tree()
    {
        // The command writes to the same file through the same descriptor: neither may overwrite the other.
        string file = Path.Combine(Directory.CreateTempSubdirectory("kmonitor-run-").FullName, "out");
        var start = new ProcessStartInfo("sh") { UseShellExecute = false };
        foreach (var arg in new[] { "-c", "exec dotnet \"$0\" --device \"$1\" run -- sh -c 'echo from-the-command' >\"$2\"", TestPaths.Command, Daemon.DevicePath, file })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        Assert.True(process.WaitForExit(30_000));
        Assert.Equal(0, process.ExitCode);
        var lines = File.ReadAllLines(file);
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        Assert.Contains("from-the-command", lines);
        Assert.Contains(lines, l => l.Contains(" exec sh"));
        Assert.Contains(lines, l => l.Contains(" exit sh exited 0"));
    }

    [Fact]
    public void Run_json_gives_each_event_with_its_depth_and_each_exit_its_duration()
    {
        var (code, lines, _) = Run(null, "run", "--json", "--", "sh", "-c", "sleep 0.2; true");
        Assert.Equal(0, code);
        var events = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        int root = events[0].GetProperty("pid").GetInt32();
        Assert.Equal(("exec", "sh", 0), (events[0].GetProperty("event").GetString(), events[0].GetProperty("name").GetString(), events[0].GetProperty("depth").GetInt32()));
        var ls = events.Single(e => e.GetProperty("event").GetString() == "exec" && e.GetProperty("name").GetString() == "sleep");
        Assert.Equal(1, ls.GetProperty("depth").GetInt32());
        var last = events[^1];
        Assert.Equal(("exit", root, 0), (last.GetProperty("event").GetString(), last.GetProperty("pid").GetInt32(), last.GetProperty("exit_code").GetInt32()));
        Assert.True(last.GetProperty("duration_ns").GetUInt64() > 0);
        Assert.True(last.GetProperty("elapsed_ns").GetUInt64() >= ls.GetProperty("elapsed_ns").GetUInt64());
    }

    // ---- status and errors ------------------------------------------------------------------------

    [Fact]
    public void Status_shows_the_daemon_as_text_and_as_json()
    {
        var text = Run(null, "status");
        Assert.Equal(0, text.Code);
        Assert.Contains(text.Out, l => l.StartsWith("device ") && l.Contains("fuse mode") || l.Contains("cuse mode"));
        Assert.Contains(text.Out, l => l.StartsWith("counter "));
        var json = Run(null, "status", "--json");
        Assert.Equal(0, json.Code);
        var status = JsonDocument.Parse(string.Join("\n", json.Out)).RootElement;
        Assert.Equal(Daemon.Mode, status.GetProperty("mode").GetString());
        Assert.Equal(Daemon.Pid, status.GetProperty("pid").GetInt32());
    }

    [Fact]
    public void Status_as_a_member_says_it_is_for_root()
    {
        var (code, _, errors) = Run(SystemUsers.Member, "status");
        Assert.Equal(1, code);
        Assert.Single(errors);
        Assert.Contains("for root only", errors[0]);
    }

    [Theory]
    [InlineData("watch")]
    [InlineData("wait", "1")]
    [InlineData("run", "--", "true")]
    [InlineData("status")]
    public void Every_command_says_in_one_line_that_there_is_no_device(params string[] args)
    {
        string missing = $"/dev/{TestPaths.UniqueName("kmt-none")}";
        var (code, output, errors) = KmonitorCommand.Run(["--device", missing, .. args]);
        Assert.Equal(1, code);
        Assert.Empty(output);
        Assert.Single(errors);
        Assert.Contains("is kmonitord running?", errors[0]);
    }

    [Fact]
    public void The_device_comes_from_KMONITOR_DEVICE_too()
    {
        string missing = $"/dev/{TestPaths.UniqueName("kmt-env")}";
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(TestPaths.Command);
        start.ArgumentList.Add("watch");
        start.Environment["KMONITOR_DEVICE"] = missing;
        using var process = Process.Start(start)!;
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(1, process.ExitCode);
        Assert.Contains(missing, errors);
    }

    [Fact]
    public void A_user_outside_the_kmonitor_group_is_told_to_join_it()
    {
        var (code, _, errors) = Run(SystemUsers.Outsider, "watch");
        Assert.Equal(1, code);
        Assert.Single(errors);
        Assert.Contains("join the kmonitor group", errors[0]);
    }

    [Fact]
    public void A_daemon_that_stops_ends_watch_with_one_line_and_exit_1()
    {
        using var daemon = DaemonProcess.Start();
        var target = Own(new KmTarget());
        var watch = Own(new KmonitorCommand(["--device", daemon.DevicePath, "watch", "--tree", target.Pid.ToString(), "--existing"]));
        Assert.Contains(" existing ", watch.ReadLine("the existing line"));
        Assert.Equal(0, daemon.Stop());
        Assert.Equal(1, watch.WaitForExit());
        Assert.Single(watch.ErrorLines);
        Assert.Contains("kmonitord has stopped", watch.ErrorLines[0]);
    }

    [Fact]
    public void Help_shows_examples_for_each_command()
    {
        foreach (var (command, example) in new[] { ("watch", "kmonitor watch --name sleep --existing --json"), ("run", "kmonitor run -- sh -c"), ("wait", "kmonitor wait"), ("status", "kmonitor status") })
        {
            var (code, output, _) = KmonitorCommand.Run([command, "--help"]);
            Assert.Equal(0, code);
            Assert.Contains("Examples:", output);
            Assert.Contains(output, l => l.Contains(example));
        }
    }
}
