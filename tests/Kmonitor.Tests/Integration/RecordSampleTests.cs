using Kmonitor.Tests.Infrastructure;

namespace Kmonitor.Tests.Integration;

/// <summary>The record samples of src/Samples/records against the daemon, as a user would run them.</summary>
public class RecordSampleTests(DaemonFixture fixture) : DeviceTest(fixture), IClassFixture<DaemonFixture>
{
    /// <summary>A sample run through env, which execs it: the device is given as the samples read it, $KMONITOR_DEVICE.</summary>
    private LineProcess Sample(string program, params string[] args) =>
        Own(new LineProcess("env", [$"KMONITOR_DEVICE={Daemon.DevicePath}", TestPaths.Native(program), .. args]));

    private static void Expect(LineProcess sample, string line)
    {
        var got = sample.ReadLine($"'{line}'", 30_000);
        Assert.True(got == line, $"{sample.Name}: expected '{line}', got '{got}'");
    }

    [Fact]
    public void Watch_name_prints_the_running_ones_then_each_start_and_stop()
    {
        using var program = new NamedProgram(TestPaths.Native("kmtarget"));
        var running = Own(new KmTarget(program.Path, null));
        var watcher = Sample("watch_name", program.Name);
        Expect(watcher, $"running {running.Pid} {program.Name}"); // subscribed from here on

        var spawner = Target();
        int started = spawner.Spawn(1, program.Path)[0]; // kmtarget with stdin at EOF: exits 0 at once
        Expect(watcher, $"started {started} {program.Name}");
        Expect(watcher, $"stopped {started} {program.Name} exit 0");
        spawner.ReapAll();
        running.Exit(3);
        Expect(watcher, $"stopped {running.Pid} {program.Name} exit 3");
    }

    [Fact]
    public void Watch_name_with_a_regular_expression_and_with_the_command_line()
    {
        string tag = $"600.{Random.Shared.Next(100_000, 999_999)}";
        using var program = new NamedProgram(TestPaths.Native("kmtarget"), "kmtw");
        var running = Own(new KmTarget(program.Path, null));
        var holder = Target();
        int sleeper = holder.SpawnHold($"/bin/sleep {tag}");
        var byName = Sample("watch_name", "-r", $"^{program.Name[..8]}[0-9a-f]+$");
        Expect(byName, $"running {running.Pid} {program.Name}");

        // The command line may still be kmtarget's until the exec: wait for the sleep's before matching it.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!File.ReadAllText($"/proc/{sleeper}/cmdline").Contains(tag) && DateTime.UtcNow < deadline)
            Thread.Sleep(1);
        var byCmdline = Sample("watch_name", "-f", $"sleep {tag.Replace(".", "\\.")}$");
        Expect(byCmdline, $"running {sleeper} sleep");
        holder.KillChild(sleeper, Posix.SIGTERM);
        Expect(byCmdline, $"stopped {sleeper} sleep signal {Posix.SIGTERM}");
        running.Exit(0);
        Expect(byName, $"stopped {running.Pid} {program.Name} exit 0");
    }

    [Fact]
    public void Watch_name_explains_a_name_the_device_refuses()
    {
        var watcher = Sample("watch_name", "sixteen-bytes-xx");
        Assert.Equal(1, watcher.WaitForExit(30_000));
        Assert.Empty(watcher.ReadToEnd());
    }

    [Fact]
    public void Follow_tree_prints_every_fork_exec_and_exit_of_its_command_and_exits_with_its_status()
    {
        // The command is kmtarget, driven through follow_tree's stdin (which it inherits); its
        // answers ("ok ...") come out on the same stdout as follow_tree's lines.
        var follower = Sample("follow_tree", TestPaths.Native("kmtarget"));
        string first = follower.ReadLine("the exec of the command", 30_000);
        Assert.StartsWith("exec ", first);
        int root = int.Parse(first.Split(' ')[1]);
        Assert.Equal($"exec {root} kmtarget", first);

        follower.Process.StandardInput.WriteLine("tree 3 2");
        follower.Process.StandardInput.Flush();
        // The grandchildren stay zombies (their names readable) until reapall: send it only once
        // follow_tree has printed every exec, so a slow machine does not turn this into the one
        // window the README documents (a process reaped before its name could be read).
        var lines = new List<string>();
        while (!lines.Any(l => l.StartsWith("ok ") && l.Contains(':')))
            lines.Add(follower.ReadLine("kmtarget's answer to tree", 30_000));
        string treeAnswer = lines.First(l => l.StartsWith("ok ") && l.Contains(':'));
        var grandchildren = treeAnswer.Split(' ').Skip(1).SelectMany(w => w.Split(':')[1].Split(',')).ToList();
        while (!grandchildren.All(g => lines.Any(l => l.StartsWith($"exec {g} "))))
            lines.Add(follower.ReadLine("an exec of a grandchild", 30_000));
        follower.Process.StandardInput.WriteLine("reapall");
        follower.Process.StandardInput.WriteLine("exit 5");
        follower.Process.StandardInput.Close();
        lines.AddRange(follower.ReadToEnd(60_000));
        Assert.Equal(5, follower.Process.ExitCode);

        var expected = new List<string>();
        foreach (var word in treeAnswer.Split(' ').Skip(1))
        {
            var parts = word.Split(':');
            int child = int.Parse(parts[0]);
            expected.Add($"fork {root} {child}");
            expected.Add($"exit {child} kmtarget exit 0");
            foreach (int g in parts[1].Split(',').Select(int.Parse))
            {
                expected.Add($"fork {child} {g}");
                expected.Add($"exec {g} true");
                expected.Add($"exit {g} true exit 0");
            }
        }
        expected.Add($"exit {root} kmtarget exit 5");
        var printed = lines.Where(l => !l.StartsWith("ok ")).ToList();
        Assert.True(expected.Order().SequenceEqual(printed.Order()),
            $"expected (any order):\n  {string.Join("\n  ", expected)}\nprinted:\n  {string.Join("\n  ", lines)}");
        Assert.Equal($"exit {root} kmtarget exit 5", printed[^1]);
    }
}
