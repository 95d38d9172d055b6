using Kmonitor.Tests.Infrastructure;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// A daemon that dies (SIGKILL: a crash, the OOM killer, a watchdog) or is cut short in its stop
/// while a monitor holds the device: the next start on the same name cleans up and serves, with no
/// manual step; the old monitor's next call fails at once instead of hanging. Each case has a
/// monitor that has used the device first, so the kernel's dentry cache knows the file (the case a
/// check by path lookup gets wrong).
/// </summary>
public class CrashRecoveryTests
{
    /// <summary>What a stop had done when it was cut short, in the order the daemon stops.</summary>
    public enum StopReached
    {
        Nothing,
        ChannelClosed,
        Unmounted,
        LinkRemoved,

        /// <summary>What a stop cut short left before this order was chosen: the link gone, the mount still there.</summary>
        LinkRemovedBeforeUnmount,
    }

    [Theory]
    [InlineData(StopReached.Nothing)]
    [InlineData(StopReached.ChannelClosed)]
    [InlineData(StopReached.Unmounted)]
    [InlineData(StopReached.LinkRemoved)]
    [InlineData(StopReached.LinkRemovedBeforeUnmount)]
    public void A_daemon_killed_with_a_waiting_monitor_is_replaced_by_the_next_start(StopReached reached)
    {
        string name = TestPaths.UniqueName();
        using var killed = DaemonProcess.StartNamed(name); // disposed last: its disposal would clean up itself
        string mode = killed.Mode;
        using var target = new KmTarget();
        using var oldMonitor = new KmClient();
        int oldFd = oldMonitor.Open(killed.DevicePath);
        oldMonitor.RegisterOk(oldFd, target.Pid, KMONITOR_PROCESS_EXIT);

        killed.Signal(Posix.SIGKILL); // the process dies; the kernel closes its channel (ChannelClosed)
        killed.WaitForExit(TimeSpan.FromSeconds(10));
        LeaveWhatAStopCutShortLeaves(killed, mode, reached);

        using var next = DaemonProcess.StartNamed(name);
        Assert.Contains(next.Log, l => l.Contains("removing its status socket"));
        if (mode == "fuse" && reached is not (StopReached.Unmounted or StopReached.LinkRemoved))
            Assert.Contains(next.Log, l => l.Contains("unmounting its dead mount"));
        if (mode == "fuse" && reached < StopReached.LinkRemoved)
            Assert.Contains(next.Log, l => l.Contains("removing the stale link"));

        using var newMonitor = new KmClient();
        int newFd = newMonitor.Open(next.DevicePath);
        newMonitor.RegisterOk(newFd, target.Pid, KMONITOR_PROCESS_EXIT);
        target.Exit(3);
        var exit = newMonitor.Expect();
        Assert.Equal((target.Pid, KMONITOR_PROCESS_EXIT), (exit.Pid, exit.Int));

        // The old file belongs to a connection nobody serves: an error now, not a wait (a hang would
        // time the client out). ENOTCONN from a FUSE mount; CUSE says ENOTCONN or ENODEV.
        Assert.Contains(oldMonitor.Register(oldFd, Environment.ProcessId, KMONITOR_PROCESS_FORK), new[] { "err ENOTCONN", "err ENODEV" });
        Assert.Null(oldMonitor.Wait(200)); // and nothing was sent to it through the new daemon

        Assert.Equal(0, next.Stop());
        Assert.Empty(Leftovers.Find(next.Paths));
    }

    [Fact]
    public void A_daemon_killed_in_the_middle_of_its_stop_is_replaced_by_the_next_start()
    {
        string name = TestPaths.UniqueName();
        using var killed = DaemonProcess.StartNamed(name);
        using var oldMonitor = new KmClient();
        int oldFd = oldMonitor.Open(killed.DevicePath);
        oldMonitor.RegisterOk(oldFd, Environment.ProcessId, KMONITOR_PROCESS_FORK);

        // The second signal lands wherever the stop has got to (or before it began): every such
        // state must be one the next start recognises.
        killed.Signal(Posix.SIGTERM);
        killed.WaitForLog("stopping", TimeSpan.FromSeconds(10));
        killed.Signal(Posix.SIGKILL);
        killed.WaitForExit(TimeSpan.FromSeconds(10));

        using var next = DaemonProcess.StartNamed(name);
        using var newMonitor = new KmClient();
        int newFd = newMonitor.Open(next.DevicePath);
        using var target = new KmTarget();
        newMonitor.RegisterOk(newFd, target.Pid, KMONITOR_PROCESS_EXIT);
        target.Exit(0);
        Assert.Equal(KMONITOR_PROCESS_EXIT, newMonitor.Expect().Int);
        Assert.Contains(oldMonitor.Register(oldFd, Environment.ProcessId, KMONITOR_PROCESS_FORK), new[] { "err ENOTCONN", "err ENODEV" });
        Assert.Equal(0, next.Stop());
        Assert.Empty(Leftovers.Find(next.Paths));
    }

    [Fact]
    public void A_live_daemon_that_does_not_answer_is_refused_not_torn_down()
    {
        using var stopped = DaemonProcess.Start();
        using var monitor = new KmClient();
        int fd = monitor.Open(stopped.DevicePath);
        monitor.RegisterOk(fd, Environment.ProcessId, KMONITOR_PROCESS_FORK);
        stopped.Signal(Posix.SIGSTOP); // alive, holding its channel, reading nothing
        try
        {
            using var second = DaemonProcess.Launch(stopped.Name);
            Assert.Equal(1, second.WaitForExit(TimeSpan.FromSeconds(60)));
            Assert.Contains(second.Log, l => l.Contains("did not answer") || l.Contains("already served by a running kmonitord"));
            Assert.Contains(stopped.DevicePath, Leftovers.Find(stopped.Paths)); // nothing of the live daemon was removed
        }
        finally
        {
            stopped.Signal(Posix.SIGCONT);
        }
        Assert.Equal("ok", monitor.Register(fd, Environment.ProcessId, KMONITOR_PROCESS_EXIT)); // still served
        monitor.Close(fd);
        Assert.Equal(0, stopped.Stop());
        Assert.Empty(Leftovers.Find(stopped.Paths));
    }

    /// <summary>
    /// After a SIGKILL, takes away what the daemon's stop removes in its steps up to
    /// <paramref name="reached"/> (see FuseMountFrontEnd.Dispose). In CUSE mode the device went with
    /// the channel, and only the status socket remains whichever step was reached.
    /// </summary>
    private static void LeaveWhatAStopCutShortLeaves(DaemonProcess killed, string mode, StopReached reached)
    {
        var paths = killed.Paths;
        if (mode == "cuse")
        {
            Assert.Equal([Daemon.StatusSocket.PathFor(paths)], Leftovers.Find(paths));
            return;
        }
        Assert.Contains($"mount {paths.MountPoint}", Leftovers.Find(paths));
        Assert.Contains(paths.DevicePath, Leftovers.Find(paths));
        if (reached is StopReached.Unmounted or StopReached.LinkRemoved)
            Posix.Umount(paths.MountPoint);
        if (reached is StopReached.LinkRemoved or StopReached.LinkRemovedBeforeUnmount)
            File.Delete(paths.DevicePath);
    }
}
