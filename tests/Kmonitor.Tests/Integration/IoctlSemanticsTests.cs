using Kmonitor.Tests.Infrastructure;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>Every row of the README's ioctl table, through the real device.</summary>
public class IoctlSemanticsTests(DaemonFixture fixture) : DeviceTest(fixture), IClassFixture<DaemonFixture>
{
    [Fact]
    public void Register_new_returns_0_and_the_exit_is_notified()
    {
        var (client, fd) = Monitor();
        var target = Target();
        Assert.Equal("ok", client.Register(fd, target.Pid, KMONITOR_PROCESS_EXIT));
        target.Exit(0);
        var n = client.Expect();
        Assert.Equal(new Notification(KmClient.Signal, Notification.SI_QUEUE, target.Pid, 0, KMONITOR_PROCESS_EXIT), n);
    }

    [Fact]
    public void Register_existing_ORs_the_mask_and_replaces_the_signal()
    {
        var (client, fd) = Monitor();
        var target = Target();
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXEC, 40);
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXIT, 41);
        Assert.Equal(1, Daemon.Status().GetProperty("monitors").EnumerateArray().Single(m => m.GetProperty("pid").GetInt32() == client.Pid).GetProperty("registrations").GetInt32());
        target.Exec();
        var exec = client.Expect();
        Assert.Equal((41, KMONITOR_PROCESS_EXEC, target.Pid), (exec.Signo, exec.Int, exec.Pid));
        target.Exit(0);
        var exit = client.Expect();
        Assert.Equal((41, KMONITOR_PROCESS_EXIT, target.Pid), (exit.Signo, exit.Int, exit.Pid));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void Register_with_pid_0_or_less_is_EINVAL(int pid)
    {
        var (client, fd) = Monitor();
        Assert.Equal("err EINVAL", client.Register(fd, pid, KMONITOR_PROCESS_EXIT));
    }

    [Fact]
    public void Register_of_a_pid_with_no_task_is_ESRCH()
    {
        var (client, fd) = Monitor();
        Assert.Equal("err ESRCH", client.Register(fd, int.MaxValue, KMONITOR_PROCESS_EXIT));
        var target = Target();
        int reaped = target.ForkExit(0); // exited and reaped: no task has this pid now
        Assert.Equal("err ESRCH", client.Register(fd, reaped, KMONITOR_PROCESS_EXIT));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(0x80)]
    [InlineData(0x7F | 0x100)]
    [InlineData(-1)]
    public void Register_with_type_0_or_unknown_bits_is_EINVAL(int type)
    {
        var (client, fd) = Monitor();
        Assert.Equal("err EINVAL", client.Register(fd, Environment.ProcessId, type));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65)]
    [InlineData(-40)]
    public void Register_with_a_signal_outside_0_to_64_is_EINVAL(int signal)
    {
        var (client, fd) = Monitor();
        Assert.Equal("err EINVAL", client.Register(fd, Environment.ProcessId, KMONITOR_PROCESS_EXIT, signal));
    }

    [Fact]
    public void Process_exit_on_a_zombie_returns_0_and_notifies_at_once_exactly_once()
    {
        var (client, fd) = Monitor();
        var parent = Target();
        int child = parent.Fork();
        parent.ExitChild(child, 7);
        WaitForZombie(child);
        Assert.Equal("ok", client.Register(fd, child, KMONITOR_PROCESS_EXIT));
        Assert.Equal(new Notification(KmClient.Signal, Notification.SI_QUEUE, child, 0, KMONITOR_PROCESS_EXIT), client.Expect());
        parent.Reap(child);
        AssertNothingQueued(client, fd);
        Assert.Equal(0, Daemon.Status().GetProperty("monitors").EnumerateArray()
            .Where(m => m.GetProperty("pid").GetInt32() == client.Pid).Sum(m => m.GetProperty("registrations").GetInt32()));
    }

    [Fact]
    public void Deregister_clears_bits_and_the_cleared_events_stop()
    {
        var (client, fd) = Monitor();
        var target = Target();
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXIT);
        Assert.Equal("ok", client.Deregister(fd, target.Pid, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_FORK));
        target.Exec();
        target.ForkExit(0);
        target.Exit(0);
        var n = client.Expect();
        Assert.Equal((target.Pid, KMONITOR_PROCESS_EXIT), (n.Pid, n.Int)); // not the exec, not the fork
    }

    [Fact]
    public void Deregister_of_the_last_bits_removes_the_registration()
    {
        var (client, fd) = Monitor();
        var target = Target();
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXIT);
        Assert.Equal("ok", client.Deregister(fd, target.Pid, KMONITOR_PROCESS_EXIT));
        Assert.Equal("err EINVAL", client.Deregister(fd, target.Pid, KMONITOR_PROCESS_EXIT));
        target.Exit(0);
        AssertNothingQueued(client, fd);
    }

    [Fact]
    public void Deregister_with_no_registration_is_EINVAL()
    {
        var (client, fd) = Monitor();
        Assert.Equal("err EINVAL", client.Deregister(fd, Environment.ProcessId, KMONITOR_PROCESS_EXIT));
        Assert.Equal("err EINVAL", client.Deregister(fd, 0, KMONITOR_PROCESS_EXIT));
    }

    [Fact]
    public void Deregister_after_the_target_exited_is_EINVAL_because_the_registration_ended_with_it()
    {
        var (client, fd) = Monitor();
        var target = Target();
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_EXEC);
        target.Exit(0);
        client.Expect();
        Assert.Equal("err EINVAL", client.Deregister(fd, target.Pid, KMONITOR_PROCESS_EXEC));
    }

    [Theory]
    [InlineData(0x400CDE03u)]   // _IOW(0xDE, 3, struct kmonitor_cmd)
    [InlineData(0x0000DE01u)]   // _IO(0xDE, 1)
    [InlineData(0x800CDE01u)]   // _IOR(0xDE, 1, struct kmonitor_cmd)
    [InlineData(0x4010DE01u)]   // _IOW(0xDE, 1, 16 bytes)
    [InlineData(0x5401u)]       // TCGETS
    public void Any_other_ioctl_number_is_EINVAL(uint cmd)
    {
        var (client, fd) = Monitor();
        Assert.Equal("err EINVAL", client.Ioctl(fd, cmd, Environment.ProcessId, KMONITOR_PROCESS_EXIT, 40));
    }

    [Theory]
    [InlineData(KMONITOR_IOW_REGISTER)]
    [InlineData(KMONITOR_IOW_DEREGISTER)]
    public void An_unreadable_argument_pointer_is_EFAULT(uint cmd)
    {
        var (client, fd) = Monitor();
        Assert.Equal("err EFAULT", client.IoctlPointer(fd, cmd, 8));
    }

    private static void WaitForZombie(int pid)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(Procfs.ProcTaskStatus.TryRead(pid, out var status) && status.HasExited))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{pid} did not become a zombie");
            Thread.Sleep(5);
        }
    }
}
