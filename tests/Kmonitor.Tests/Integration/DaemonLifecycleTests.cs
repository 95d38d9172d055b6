using System.Diagnostics;
using Kmonitor.Tests.Infrastructure;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>Starting, refusing to start, and stopping: the daemon's one-line errors, exit codes, and clean-up.</summary>
public class DaemonLifecycleTests
{
    [Fact]
    public void SIGTERM_removes_the_device_and_exits_0()
    {
        using var daemon = DaemonProcess.Start();
        Assert.NotEmpty(Leftovers.Find(daemon.Paths));
        Assert.Equal(0, daemon.Stop());
        Assert.Empty(Leftovers.Find(daemon.Paths));
        Assert.Contains(daemon.Log, l => l.Contains("stopped;") && l.Contains("notifications_sent"));
    }

    [Fact]
    public void SIGINT_stops_a_daemon_started_in_the_background_by_a_script()
    {
        // A non-interactive shell starts background jobs with SIGINT ignored.
        Root.Require();
        string name = TestPaths.UniqueName();
        var paths = new Daemon.DevicePaths(name);
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"dotnet '{TestPaths.Daemon}' --name {name} 2>/dev/null & pid=$!; " +
                               $"for i in $(seq 300); do [ -e {paths.DevicePath} ] && break; sleep 0.1; done; " +
                               "grep SigIgn /proc/$pid/status >&2; kill -INT $pid; wait $pid; echo $?");
        using var shell = Process.Start(start)!;
        string output = shell.StandardOutput.ReadToEnd();
        Assert.True(shell.WaitForExit(30_000));
        try
        {
            Assert.Equal("0", output.Trim());
            Assert.Empty(Leftovers.Find(paths));
        }
        finally
        {
            Leftovers.Remove(paths);
        }
    }

    [Fact]
    public void An_existing_device_of_someone_else_is_refused_not_taken_over()
    {
        Root.Require();
        string name = TestPaths.UniqueName();
        string path = $"/dev/{name}";
        File.WriteAllText(path, "not ours");
        try
        {
            using var daemon = DaemonProcess.Launch(name);
            Assert.Equal(1, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Contains(daemon.Log, l => l.Contains($"{path} already exists") && l.Contains("refusing"));
            Assert.Equal("not ours", File.ReadAllText(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_second_daemon_on_the_same_name_is_refused()
    {
        using var first = DaemonProcess.Start();
        using var second = DaemonProcess.Launch(first.Name);
        Assert.Equal(1, second.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains(second.Log, l => l.Contains("already served by a running kmonitord"));
        Assert.True(File.Exists(first.DevicePath));
    }

    [Fact]
    public void After_SIGKILL_the_next_start_cleans_up_and_comes_up()
    {
        string name = TestPaths.UniqueName();
        using var killed = DaemonProcess.StartNamed(name); // disposed last: its disposal would clean up itself
        string mode = killed.Mode;
        killed.Signal(Posix.SIGKILL);
        killed.WaitForExit(TimeSpan.FromSeconds(10));
        Assert.NotEmpty(Leftovers.Find(killed.Paths)); // FUSE: the link and the dead mount; both: the socket
        using var next = DaemonProcess.StartNamed(name);
        if (mode == "fuse")
            Assert.Contains(next.Log, l => l.Contains("cleaning up after a kmonitord that did not stop"));
        using var client = new KmClient();
        int fd = client.Open(next.DevicePath);
        Assert.Equal("ok", client.Register(fd, Environment.ProcessId, KMONITOR_PROCESS_FORK));
        client.Close(fd);
        Assert.Equal(0, next.Stop());
        Assert.Empty(Leftovers.Find(next.Paths));
    }

    [Fact]
    public void Monitors_still_attached_at_SIGTERM_get_an_error_not_a_hang()
    {
        var daemon = DaemonProcess.Start();
        using var client = new KmClient();
        int fd = client.Open(daemon.DevicePath);
        client.RegisterOk(fd, Environment.ProcessId, KMONITOR_PROCESS_FORK);
        Assert.Equal(0, daemon.Stop());
        Assert.Equal("err ENOTCONN", client.Register(fd, Environment.ProcessId, KMONITOR_PROCESS_EXIT));
        client.Close(fd);
        daemon.Dispose();
        Assert.Empty(Leftovers.Find(daemon.Paths));
    }

    [Fact]
    public void Without_the_needed_capabilities_it_names_them_and_exits_1()
    {
        Root.Require();
        var start = new ProcessStartInfo("setpriv") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in new[] { "--bounding-set", "-sys_admin,-net_admin", "--inh-caps", "-all", "dotnet", TestPaths.Daemon, "--name", TestPaths.UniqueName() })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        string log = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(30_000));
        Assert.Equal(1, process.ExitCode);
        var line = Assert.Single(log.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("CAP_SYS_ADMIN", line);
        Assert.Contains("CAP_NET_ADMIN", line);
        Assert.DoesNotContain("CAP_KILL", line); // kept: only what is missing is named
    }

    [Theory]
    [InlineData("--frobnicate")]
    [InlineData("--buffer-length", "-3")]
    [InlineData("--mode", "block")]
    public void A_bad_command_line_is_one_message_and_exit_2(params string[] args)
    {
        using var daemon = DaemonProcess.Launch(TestPaths.UniqueName(), args);
        Assert.Equal(2, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.StartsWith("kmonitord: ", daemon.Log[0]);
    }

    [Fact]
    public void Mode_cuse_comes_up_where_the_kernel_has_CUSE_and_names_CONFIG_CUSE_where_not()
    {
        Root.Require();
        bool kernelHasCuse = Daemon.CuseFrontEnd.Availability() is null; // loads the module where there is one
        using var daemon = DaemonProcess.Launch(TestPaths.UniqueName(), "--mode", "cuse");
        if (kernelHasCuse)
        {
            daemon.WaitForLog("ready:", TimeSpan.FromSeconds(30));
            Assert.Equal(0, daemon.Stop());
        }
        else
        {
            Assert.Equal(1, daemon.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Contains(daemon.Log, l => l.Contains("CONFIG_CUSE"));
        }
    }
}
