using System.Diagnostics;
using Kmonitor.Tests.Infrastructure;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// CUSE mode, which needs a kernel with CUSE: run inside the VM of tests/vm (tests/run does so),
/// selected with the trait Requires=cuse, and left out of the host run, whose kernel has none.
/// </summary>
[Trait("Requires", "cuse")]
[Collection(nameof(CuseModeTests))]
public class CuseModeTests
{
    private static string Stat(string format, string path)
    {
        var stat = Process.Start(new ProcessStartInfo("stat", ["-L", "-c", format, path]) { RedirectStandardOutput = true })!;
        string output = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return output;
    }

    private static void Run(string program, params string[] args)
    {
        var process = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed: {error}");
    }

    [Fact]
    public void Auto_mode_chooses_CUSE_and_makes_a_character_device_of_class_cuse()
    {
        using var daemon = DaemonProcess.Start();
        Assert.Contains(daemon.Log, l => l.Contains("mode auto: using CUSE"));
        Assert.Equal("cuse", daemon.Mode);
        Assert.Equal("character special file", Stat("%F", daemon.DevicePath));
        Assert.True(Directory.Exists($"/sys/class/cuse/{daemon.Name}"), $"/sys/class/cuse/{daemon.Name} is missing");
        using var client = new KmClient();
        int fd = client.Open(daemon.DevicePath);
        Assert.Equal("ok", client.Register(fd, Environment.ProcessId, KMONITOR_PROCESS_FORK));
    }

    [Fact]
    public void Stopping_the_daemon_removes_the_device()
    {
        var daemon = DaemonProcess.Start();
        Assert.Equal(0, daemon.Stop());
        Assert.False(File.Exists(daemon.DevicePath));
        Assert.False(Directory.Exists($"/sys/class/cuse/{daemon.Name}"));
        daemon.Dispose();
    }

    [Fact]
    public void Without_udev_the_daemon_applies_group_and_mode_itself()
    {
        Assert.False(File.Exists("/run/udev/control"), "udev is running; this test is about a machine without it");
        Run("groupadd", "-f", "kmtest");
        using var daemon = DaemonProcess.StartNamed(TestPaths.UniqueName(), "--group", "kmtest", "--mode-bits", "0640");
        Assert.Equal("kmtest 640", Stat("%G %a", daemon.DevicePath));
    }

    [Fact]
    public void With_udev_running_the_rule_gives_the_device_its_group_and_mode()
    {
        // The shipped rule matches the name kmonitor: inside the VM nothing else uses it. The rule
        // goes into /etc, which only the VM's throw-away overlay may have changed.
        Assert.True(Environment.GetEnvironmentVariable("KMONITOR_VM_GUEST") == "1",
            "refusing to run: this test installs a udev rule in /etc/udev/rules.d, which only the test VM may " +
            "change (KMONITOR_VM_GUEST=1 is set there); run it with tests/vm/run.sh, or filter it out with Requires!=cuse");
        Run("groupadd", "-f", "kmonitor");
        Directory.CreateDirectory("/etc/udev/rules.d");
        File.Copy(Path.Combine(TestPaths.RepoRoot, "udev", "99-kmonitor.rules"), "/etc/udev/rules.d/99-kmonitor.rules", overwrite: true);
        Run("/lib/systemd/systemd-udevd", "--daemon");
        try
        {
            // The daemon is told other bits: seeing the rule's 0660 proves udev set them.
            using var daemon = DaemonProcess.StartNamed("kmonitor", "--group", "root", "--mode-bits", "0600");
            Assert.Contains(daemon.Log, l => l.Contains("udev is running"));
            Run("udevadm", "settle", "--timeout=30");
            Assert.Equal("kmonitor 660", Stat("%G %a", daemon.DevicePath));
        }
        finally
        {
            Run("udevadm", "control", "--exit");
            File.Delete("/run/udev/control"); // so later daemons in this VM do not think udev still runs
            File.Delete("/etc/udev/rules.d/99-kmonitor.rules"); // so the packaging test in this VM finds none
        }
    }
}

/// <summary>
/// Run alone: while the udev test runs, udevd owns every new device's mode, which would change what
/// daemons started by other tests at the same time do.
/// </summary>
[CollectionDefinition(nameof(CuseModeTests), DisableParallelization = true)]
public class CuseModeTestsCollection;
