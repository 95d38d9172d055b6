using System.Diagnostics;
using Kmonitor.Tests.Infrastructure;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// The C programs of the 2004 announcement, unchanged in their use of the ABI, against the daemon;
/// and the C# sample.
/// </summary>
public class LegacySampleTests(DaemonFixture fixture) : DeviceTest(fixture), IClassFixture<DaemonFixture>
{
    private static Process Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
    }

    private (int ExitCode, string Output) Finish(Process process, int timeoutMs)
    {
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{process.StartInfo.FileName} did not finish within {timeoutMs} ms:\n{stdout.Result}\n{stderr.Result}\ndaemon log:\n{Daemon.LogText}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Waits until the process has a registration in the daemon, so the test knows it is listening.</summary>
    private void WaitRegistered(Process monitor, int count = 1) =>
        Daemon.WaitForStatus(s => s.GetProperty("monitors").EnumerateArray()
            .Any(m => m.GetProperty("pid").GetInt32() == monitor.Id && m.GetProperty("registrations").GetInt32() >= count),
            $"{monitor.StartInfo.FileName} to register", timeoutMs: 60_000); // a .NET start under emulation can take long

    [Fact]
    public void Unit_test_passes_every_case()
    {
        var (code, output) = Finish(Run(TestPaths.Native("unit_test"), Daemon.DevicePath), 180_000);
        Assert.True(code == 0, output);
        Assert.Matches(@"(?m)^\d+ passed, 0 failed$", output);
        Assert.DoesNotContain("FAIL", output);
    }

    [Fact]
    public void Wait_on_pid_returns_as_soon_as_its_target_exits()
    {
        var target = Target();
        using var waiter = Run(TestPaths.Native("wait_on_pid"), target.Pid.ToString(), Daemon.DevicePath);
        WaitRegistered(waiter);
        Assert.False(waiter.HasExited);
        target.Exit(0);
        var (code, output) = Finish(waiter, 30_000);
        Assert.True(code == 0, output);
    }

    [Fact]
    public void The_documentation_example_compiled_against_the_header_returns_when_its_target_exits()
    {
        // The example opens /dev/kmonitor itself. In a mount namespace of its own, /dev is a tmpfs
        // holding only that name, for this test's daemon; the machine's /dev is untouched. In FUSE
        // mode the name is a link to the mounted file, in CUSE mode a node with the device's numbers.
        var target = Target();
        string device = Daemon.DevicePath;
        string script =
            $"real=$(readlink -f {device}); " +
            "if [ -c \"$real\" ]; then set -- $(stat -c '%t %T' \"$real\"); " +
            "mount -t tmpfs none /dev && mknod /dev/kmonitor c $((0x$1)) $((0x$2)); " +
            "else mount -t tmpfs none /dev && ln -s \"$real\" /dev/kmonitor; fi && " +
            $"exec {TestPaths.Native("doc_example")} {target.Pid}";
        using var example = Run("unshare", "--mount", "--propagation", "private", "sh", "-c", script);
        WaitRegistered(example);
        target.Exit(0);
        var (code, output) = Finish(example, 30_000);
        Assert.True(code == 0, output);
    }

    [Fact]
    public void Monitor_pid_follows_a_process_subtree()
    {
        var root = Target();
        using var monitor = Run(TestPaths.Native("monitor_pid"), root.Pid.ToString(), Daemon.DevicePath);
        WaitRegistered(monitor);
        int child = root.Fork();
        WaitRegistered(monitor, 2); // it registered the child it was told about
        root.ExitChild(child, 0);
        root.Reap(child);
        root.Exit(0);
        var (code, output) = Finish(monitor, 30_000);
        Assert.True(code == 0, output);
        Assert.Contains($"fork {child}", output);
        Assert.Contains($"exit {child}", output);
        Assert.Contains($"exit {root.Pid}", output);
    }

    [Fact]
    public void The_csharp_wait_on_pid_returns_when_its_target_exits()
    {
        var target = Target();
        using var waiter = Run("dotnet", TestPaths.WaitOnPidSample, target.Pid.ToString(), Daemon.DevicePath);
        WaitRegistered(waiter);
        target.Exit(0);
        var (code, output) = Finish(waiter, 60_000);
        Assert.True(code == 0, output);
        Assert.Contains($"{target.Pid} exited", output);
    }
}
