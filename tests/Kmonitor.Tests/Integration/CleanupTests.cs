using Kmonitor.Tests.Infrastructure;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>Closing the file, or the monitor dying, leaves no registration behind.</summary>
public class CleanupTests(DaemonFixture fixture) : DeviceTest(fixture), IClassFixture<DaemonFixture>
{
    private int RegistrationsOf(int monitorPid) => Daemon.Status().GetProperty("monitors").EnumerateArray()
        .Where(m => m.GetProperty("pid").GetInt32() == monitorPid).Sum(m => m.GetProperty("registrations").GetInt32());

    [Fact]
    public void Closing_the_file_drops_everything_it_registered()
    {
        var (client, fd) = Monitor();
        var first = Target();
        var second = Target();
        client.RegisterOk(fd, first.Pid, KMONITOR_PROCESS_EXIT);
        client.RegisterOk(fd, second.Pid, KMONITOR_PROCESS_EXEC);
        Assert.Equal(2, RegistrationsOf(client.Pid));
        Assert.Equal("ok", client.Close(fd));
        Daemon.WaitForStatus(s => RegistrationsOf(client.Pid) == 0, "the closed file's registrations to go");
        first.Exit(0);
        second.Exec();
        AssertNothingQueued(client, client.Open(Daemon.DevicePath));
    }

    [Fact]
    public void A_monitor_killed_with_SIGKILL_leaves_no_registration_behind()
    {
        int before = Daemon.Registrations;
        var client = new KmClient();
        int monitorPid = client.Pid;
        int fd = client.Open(Daemon.DevicePath);
        var target = Target();
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXIT);
        client.RegisterOk(fd, Environment.ProcessId, KMONITOR_PROCESS_FORK);
        Assert.Equal(before + 2, Daemon.Registrations);
        client.Kill();
        client.Dispose();
        Daemon.WaitForStatus(s => s.GetProperty("registrations").GetInt32() == before, "the killed monitor's registrations to go");
        Assert.Equal(0, RegistrationsOf(monitorPid));
    }

    [Fact]
    public void Two_files_of_one_monitor_are_independent()
    {
        var (client, fd) = Monitor();
        int other = client.Open(Daemon.DevicePath);
        var target = Target();
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXIT, 40);
        client.RegisterOk(other, target.Pid, KMONITOR_PROCESS_EXIT, 41);
        Assert.Equal("ok", client.Close(fd));
        Daemon.WaitForStatus(s => RegistrationsOf(client.Pid) == 1, "one registration to stay");
        target.Exit(0);
        Assert.Equal(41, client.Expect().Signo);
    }

    [Fact]
    public void A_monitor_that_dies_while_its_child_holds_the_file_loses_its_registrations_at_once()
    {
        var client = Own(new KmClient());
        int monitorPid = client.Pid;
        int fd = client.Open(Daemon.DevicePath);
        var target = Target();
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_EXEC);
        // A second monitor hears the target's next fork: the barrier that says the exec before it has
        // been handled, since the dispatcher handles events one after another.
        var (observer, observerFd) = Monitor();
        observer.RegisterOk(observerFd, target.Pid, KMONITOR_PROCESS_FORK);
        int holder = int.Parse(client.Ok("forkhold")[0]);
        long esrchBefore = Daemon.Counter("dropped_esrch");
        try
        {
            client.Kill();
            // No event happens to the target: the daemon learns of the death from the monitor's pidfd.
            Daemon.WaitForStatus(s => RegistrationsOf(monitorPid) == 0
                && !s.GetProperty("monitors").EnumerateArray().Any(m => m.GetProperty("pid").GetInt32() == monitorPid),
                "the dead monitor's registrations to go while its child keeps the file open");
            target.Exec(); // and nothing is sent for the target any more
            int child = target.ForkExit(0);
            var fork = observer.Expect(); // so the exec has been dispatched
            Assert.Equal((child, KMONITOR_PROCESS_FORK), (fork.Pid, fork.Int));
            Assert.Equal(esrchBefore, Daemon.Counter("dropped_esrch")); // no signal was even tried
        }
        finally
        {
            Posix.Kill(holder, Posix.SIGKILL);
        }
    }
}
