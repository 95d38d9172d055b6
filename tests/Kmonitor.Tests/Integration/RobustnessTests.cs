using System.Diagnostics;
using Kmonitor.Tests.Infrastructure;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// Nothing lost, nothing leaked, nothing misdirected: an overflowing storm, monitor churn, bad
/// input from many processes at once, and (in the VM, where pid_max may be lowered) pid reuse.
/// The C programs live in tests/clients; each ends with "N passed, M failed".
/// </summary>
public class RobustnessTests
{
    private static (int ExitCode, string Output) Run(int timeoutMs, string program, params string[] args)
    {
        var start = new ProcessStartInfo(TestPaths.Native(program)) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeoutMs))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"{program} did not finish within {timeoutMs} ms:\n{stdout.Result}\n{stderr.Result}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static void AssertAllPassed((int ExitCode, string Output) result)
    {
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Matches(@"(?m)^\d+ passed, 0 failed$", result.Output);
    }

    [Fact]
    public void Storm_every_registered_exit_is_reported_even_when_netlink_overflows()
    {
        // A small netlink buffer, and the daemon stopped (SIGSTOP) while 200 watched processes exit in
        // a storm of 20,000 forks: the kernel must drop events, and every exit must still be reported.
        using var daemon = DaemonProcess.Start("--receive-buffer", "65536");
        try
        {
            AssertAllPassed(Run(300_000, "kmstorm", daemon.DevicePath, daemon.Pid.ToString(), "200", "20000"));
        }
        finally
        {
            Posix.Kill(daemon.Pid, Posix.SIGCONT); // never leave it stopped, whatever happened
        }
        var counters = daemon.Status().GetProperty("counters");
        Assert.True(counters.GetProperty("dropped_enobufs").GetInt64() > 0, $"the storm did not overflow netlink:\n{counters}");
        Assert.True(counters.GetProperty("overflow_episodes").GetInt64() > 0, counters.ToString());
        daemon.WaitForLog("overflow: ", TimeSpan.FromSeconds(30));
        daemon.WaitForLog("resynchronised after the overflow", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void Churn_ten_thousand_monitors_killed_after_registering_leave_nothing_behind()
    {
        using var daemon = DaemonProcess.Start();
        using var target = new KmTarget();
        string[] Churn(int cycles) => [daemon.DevicePath, target.Pid.ToString(), cycles.ToString()];
        void Settle() => daemon.WaitForStatus(s => s.GetProperty("registrations").GetInt32() == 0
            && s.GetProperty("open_files").GetInt32() == 0 && s.GetProperty("watched_monitors").GetInt32() == 0,
            "every killed monitor's file and registrations to go", 60_000);

        AssertAllPassed(Run(120_000, "kmchurn", Churn(500))); // warm-up: JIT, pools, the GC's first budget
        Settle();
        int descriptors = daemon.Status().GetProperty("open_descriptors").GetInt32();
        long heap = daemon.LiveHeapBytes;

        AssertAllPassed(Run(600_000, "kmchurn", Churn(10_000)));
        Settle();
        Assert.Equal(descriptors, daemon.Status().GetProperty("open_descriptors").GetInt32());
        long grown = daemon.LiveHeapBytes - heap;
        Assert.True(grown < 256 << 10, $"10,000 churn cycles left {grown >> 10} KiB more live on the daemon's heap");
    }

    [Fact]
    public void Bad_input_from_many_processes_gets_the_errno_of_the_table_and_the_daemon_stays_up()
    {
        using var daemon = DaemonProcess.Start();
        AssertAllPassed(Run(300_000, "kmfuzz", daemon.DevicePath, "20261121", "8", "3000"));
        Assert.False(daemon.HasExited);
        daemon.WaitForStatus(s => s.GetProperty("registrations").GetInt32() == 0 && s.GetProperty("open_files").GetInt32() == 0,
            "the fuzzers' registrations to go with them", 60_000);
    }

    [Fact]
    [Trait("Requires", "vm")]
    public void Pid_reuse_a_recycled_pid_never_gets_the_notifications_of_its_predecessor()
    {
        // Only in the VM: pid_max is lowered so pids come back within a few hundred forks; the host's
        // kernel knobs are not the tests' to change. The VM's init says where we are (tests/vm/guest-init.sh).
        Assert.True(Environment.GetEnvironmentVariable("KMONITOR_VM_GUEST") == "1",
            "refusing to run: this test lowers /proc/sys/kernel/pid_max, which only the test VM may have changed " +
            "(KMONITOR_VM_GUEST=1 is set there); run it with tests/vm/run.sh, or filter it out with Requires!=vm");
        const string PidMax = "/proc/sys/kernel/pid_max";
        string saved = File.ReadAllText(PidMax).Trim();
        File.WriteAllText(PidMax, "1000");
        try
        {
            using var daemon = DaemonProcess.Start();
            AssertAllPassed(Run(600_000, "kmreuse", daemon.DevicePath, "10"));
        }
        finally
        {
            File.WriteAllText(PidMax, saved);
        }
    }
}
