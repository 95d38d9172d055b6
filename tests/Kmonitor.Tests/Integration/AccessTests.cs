using System.Diagnostics;
using Kmonitor.Tests.Infrastructure;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>A daemon started after the kmonitor group and the test users exist, so its device is root:kmonitor 0660.</summary>
public sealed class AccessFixture : IDisposable
{
    public AccessFixture()
    {
        SystemUsers.Ensure();
        Daemon = DaemonProcess.Start("--log-level", "debug");
    }

    public DaemonProcess Daemon { get; }

    public void Dispose() => Daemon.Dispose();
}

/// <summary>Who may open the device and whom they may watch; the limits on how much they may register.</summary>
public class AccessTests(AccessFixture fixture) : IClassFixture<AccessFixture>, IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private DaemonProcess Daemon => fixture.Daemon;

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

    [Fact]
    public void A_member_of_the_kmonitor_group_watches_its_own_processes_and_gets_EPERM_for_roots()
    {
        var member = Own(new KmClient(SystemUsers.Member, withUserGroups: true));
        int fd = member.Open(Daemon.DevicePath);
        var own = Own(new KmTarget(SystemUsers.Member));
        var roots = Own(new KmTarget());
        Assert.Equal("ok", member.Register(fd, own.Pid, KMONITOR_PROCESS_EXIT));
        Assert.Equal("err EPERM", member.Register(fd, roots.Pid, KMONITOR_PROCESS_EXIT));
        own.Exit(0);
        var n = member.Expect();
        Assert.Equal((own.Pid, SystemUsers.Uid(SystemUsers.Member), KMONITOR_PROCESS_EXIT), (n.Pid, n.Uid, n.Int));
        Assert.Contains(Daemon.Log, l => l.Contains($"REGISTER of pid {roots.Pid} (uid 0)") && l.Contains("refused"));
    }

    [Fact]
    public void A_caller_that_gave_up_root_is_judged_as_what_it_is_now_not_as_it_was_at_its_last_REGISTER()
    {
        // The daemon remembers a thread after a REGISTER (to skip re-reading its /proc status); that
        // memory must never carry the old credentials into a new REGISTER.
        using var daemon = DaemonProcess.Start(); // its own: the refusal below must not use up the shared daemon's rate-limited log line
        var client = Own(new KmClient());
        int fd = client.Open(daemon.DevicePath);
        var roots = Own(new KmTarget());
        var others = Own(new KmTarget());
        var members = Own(new KmTarget(SystemUsers.Member));
        Assert.Equal("ok", client.Register(fd, roots.Pid, KMONITOR_PROCESS_EXIT));
        Assert.Equal("ok", client.Register(fd, roots.Pid, KMONITOR_PROCESS_EXEC)); // now a caller it knows
        client.SetUid(SystemUsers.Uid(SystemUsers.Member));
        Assert.Equal("err EPERM", client.Register(fd, others.Pid, KMONITOR_PROCESS_EXIT));
        Assert.Equal("ok", client.Register(fd, members.Pid, KMONITOR_PROCESS_EXIT));
        // What it registered as root stays registered (as with the 2004 driver, a registration is checked once).
        roots.Exit(0);
        var n = client.Expect();
        Assert.Equal((roots.Pid, 0u, KMONITOR_PROCESS_EXIT), (n.Pid, n.Uid, n.Int));
    }

    [Fact]
    public void A_user_outside_the_group_cannot_open_the_device()
    {
        var outsider = Own(new KmClient(SystemUsers.Outsider, withUserGroups: true));
        Assert.Equal("err EACCES", outsider.TryOpen(Daemon.DevicePath));
    }

    [Fact]
    public void The_device_is_root_kmonitor_0660()
    {
        var stat = Process.Start(new ProcessStartInfo("stat", ["-L", "-c", "%U:%G %a", Daemon.DevicePath]) { RedirectStandardOutput = true })!;
        Assert.Equal("root:kmonitor 660", stat.StandardOutput.ReadToEnd().Trim());
    }

    [Fact]
    public void Past_the_per_file_limit_REGISTER_is_ENOSPC_and_the_daemon_does_not_grow()
    {
        using var daemon = DaemonProcess.Start("--max-per-file", "2", "--max-per-uid", "3");
        var client = Own(new KmClient());
        int fd = client.Open(daemon.DevicePath);
        var targets = Enumerable.Range(0, 4).Select(_ => Own(new KmTarget())).ToArray();
        Assert.Equal("ok", client.Register(fd, targets[0].Pid, KMONITOR_PROCESS_EXIT));
        Assert.Equal("ok", client.Register(fd, targets[1].Pid, KMONITOR_PROCESS_EXIT));
        Assert.Equal("ok", client.Register(fd, targets[1].Pid, KMONITOR_PROCESS_EXEC)); // an existing one is not a new one
        Assert.Equal("err ENOSPC", client.Register(fd, targets[2].Pid, KMONITOR_PROCESS_EXIT));

        int other = client.Open(daemon.DevicePath);
        Assert.Equal("ok", client.Register(other, targets[2].Pid, KMONITOR_PROCESS_EXIT));
        Assert.Equal("err ENOSPC", client.Register(other, targets[3].Pid, KMONITOR_PROCESS_EXIT)); // the uid's 3 are used

        // Flat: after a warm-up, many more refusals leave nothing live behind (the status report
        // measures the managed heap after a full collection).
        void Refuse(int times)
        {
            for (int i = 0; i < times; i++)
                Assert.Equal("err ENOSPC", client.Register(fd, targets[3].Pid, KMONITOR_PROCESS_EXIT));
        }
        Refuse(1000);
        long before = daemon.LiveHeapBytes;
        Refuse(6000);
        long grown = daemon.LiveHeapBytes - before;
        Assert.True(grown < 64 << 10, $"6000 refused REGISTERs left {grown >> 10} KiB more live on the daemon's heap");
        Assert.Equal(3, daemon.Registrations);
    }

    [Fact]
    public void Policy_open_restores_the_2004_behaviour()
    {
        using var daemon = DaemonProcess.Start("--policy", "open");
        var member = Own(new KmClient(SystemUsers.Member, withUserGroups: true));
        int fd = member.Open(daemon.DevicePath);
        var roots = Own(new KmTarget());
        Assert.Equal("ok", member.Register(fd, roots.Pid, KMONITOR_PROCESS_EXIT));
    }

    [Fact]
    public void A_monitor_in_its_own_pid_namespace_uses_and_receives_its_own_pids()
    {
        // unshare: a new pid namespace (and mount namespace, with its own /proc); inside, a sleep to watch
        // and the monitor, which announces the sleep's pid as it sees it.
        string script = $"sleep 600 & echo \"ok $!\"; exec {TestPaths.Native("kmclient")}";
        var monitor = Own(new LineProcess("unshare", ["--pid", "--fork", "--mount-proc", "sh", "-c", script]));
        int localTarget = int.Parse(monitor.ReadLine("the target's pid").Split(' ')[1]);
        int fd = int.Parse(monitor.Ok($"open {Daemon.DevicePath}")[0]);
        Assert.Equal("ok", monitor.Send($"reg {fd} {localTarget} {KMONITOR_PROCESS_EXIT} {KmClient.Signal}"));
        // A pid of the host's namespace is not a task the monitor can see.
        Assert.Equal("err ESRCH", monitor.Send($"reg {fd} {Environment.ProcessId} {KMONITOR_PROCESS_EXIT} {KmClient.Signal}"));

        int kmclient = ChildOf(monitor.Pid);     // unshare forks the namespace's init: sh, which became kmclient
        int sleeper = ChildOf(kmclient);
        Assert.NotEqual(localTarget, sleeper);   // the host sees another number
        Posix.Kill(sleeper, Posix.SIGTERM);
        var n = Notification.Parse(monitor.Send("wait 20000", 30000));
        Assert.Equal(new Notification(KmClient.Signal, Notification.SI_QUEUE, localTarget, 0, KMONITOR_PROCESS_EXIT), n);

        // The namespace ends when its init exits; the daemon's relay in it is killed and must be
        // reaped at once, or the init's exit (and the container's) would hang on it.
        Assert.Equal("ok", monitor.Send("quit"));
        Assert.Equal(0, monitor.WaitForExit(20_000));
    }

    private static int ChildOf(int pid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            string children = File.ReadAllText($"/proc/{pid}/task/{pid}/children").Trim();
            if (children.Length > 0)
                return int.Parse(children.Split(' ')[0]);
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{pid} has no child");
            Thread.Sleep(10);
        }
    }
}
