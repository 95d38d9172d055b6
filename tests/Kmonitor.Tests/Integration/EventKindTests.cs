using Kmonitor.Tests.Infrastructure;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// Every event kind, with every siginfo field the 2004 driver filled in. Targets run as the user
/// nobody (65534), so si_uid is seen to be the target's and not the daemon's or the monitor's.
/// </summary>
public class EventKindTests(DaemonFixture fixture) : DeviceTest(fixture), IClassFixture<DaemonFixture>
{
    private const string Nobody = "65534";
    private const uint NobodyUid = 65534;

    private static Notification Expected(int pid, int bit) => new(KmClient.Signal, Notification.SI_QUEUE, pid, NobodyUid, bit);

    [Fact]
    public void PROCESS_FORK_names_the_new_child()
    {
        var (client, fd) = Monitor();
        var target = Target(Nobody);
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_FORK);
        int child = target.Fork();
        Assert.Equal(Expected(child, KMONITOR_PROCESS_FORK), client.Expect());
    }

    [Fact]
    public void PROCESS_EXEC_names_the_process()
    {
        var (client, fd) = Monitor();
        var target = Target(Nobody);
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXEC);
        target.Exec();
        Assert.Equal(Expected(target.Pid, KMONITOR_PROCESS_EXEC), client.Expect());
    }

    [Fact]
    public void PROCESS_EXIT_names_the_process()
    {
        var (client, fd) = Monitor();
        var target = Target(Nobody);
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_ABORT);
        target.Exit(3);
        Assert.Equal(Expected(target.Pid, KMONITOR_PROCESS_EXIT), client.Expect()); // no ABORT: it exited
    }

    [Fact]
    public void PROCESS_ABORT_comes_before_PROCESS_EXIT_when_a_signal_kills_the_process()
    {
        var (client, fd) = Monitor();
        var target = Target(Nobody);
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_ABORT);
        target.Kill();
        Assert.Equal(Expected(target.Pid, KMONITOR_PROCESS_ABORT), client.Expect());
        Assert.Equal(Expected(target.Pid, KMONITOR_PROCESS_EXIT), client.Expect());
    }

    [Fact]
    public void THREAD_CREATE_on_a_process_names_the_new_thread()
    {
        var (client, fd) = Monitor();
        var target = Target(Nobody);
        client.RegisterOk(fd, target.Pid, KMONITOR_THREAD_CREATE);
        int tid = target.Thread();
        Assert.Equal(Expected(tid, KMONITOR_THREAD_CREATE), client.Expect());
    }

    [Fact]
    public void THREAD_EXIT_reaches_registrations_on_the_thread_and_on_its_process()
    {
        var (client, fd) = Monitor();
        var target = Target(Nobody);
        int tid = target.Thread();
        client.RegisterOk(fd, target.Pid, KMONITOR_THREAD_EXIT, 40);
        client.RegisterOk(fd, tid, KMONITOR_THREAD_EXIT, 41);
        target.EndThread(tid);
        var both = new[] { client.Expect(), client.Expect() }.OrderBy(n => n.Signo).ToArray();
        Assert.Equal(Expected(tid, KMONITOR_THREAD_EXIT), both[0]);
        Assert.Equal(Expected(tid, KMONITOR_THREAD_EXIT) with { Signo = 41 }, both[1]);
    }

    [Fact]
    public void THREAD_ABORT_comes_before_THREAD_EXIT_when_the_process_is_killed()
    {
        var (client, fd) = Monitor();
        var target = Target(Nobody);
        int tid = target.Thread();
        client.RegisterOk(fd, target.Pid, KMONITOR_THREAD_ABORT | KMONITOR_THREAD_EXIT);
        target.Kill();
        Assert.Equal(Expected(tid, KMONITOR_THREAD_ABORT), client.Expect());
        Assert.Equal(Expected(tid, KMONITOR_THREAD_EXIT), client.Expect());
    }

    [Fact]
    public void A_registration_from_another_thread_of_the_monitor_signals_the_monitor_process()
    {
        var (client, fd) = Monitor();
        var target = Target(Nobody);
        var answer = client.Send($"threg {fd} {target.Pid} {KMONITOR_PROCESS_EXIT} {KmClient.Signal}");
        Assert.StartsWith("ok ", answer);
        Assert.NotEqual(client.Pid.ToString(), answer.Split(' ')[1]); // it really was another thread
        target.Exit(0);
        Assert.Equal(Expected(target.Pid, KMONITOR_PROCESS_EXIT), client.Expect());
    }

    [Fact]
    public void Two_monitors_of_one_target_are_both_notified()
    {
        var (first, firstFd) = Monitor();
        var (second, secondFd) = Monitor();
        var target = Target(Nobody);
        first.RegisterOk(firstFd, target.Pid, KMONITOR_PROCESS_EXIT);
        second.RegisterOk(secondFd, target.Pid, KMONITOR_PROCESS_EXIT, 42);
        target.Exit(0);
        Assert.Equal(Expected(target.Pid, KMONITOR_PROCESS_EXIT), first.Expect());
        Assert.Equal(Expected(target.Pid, KMONITOR_PROCESS_EXIT) with { Signo = 42 }, second.Expect());
    }

    [Fact]
    public void An_unregistered_process_produces_no_signal()
    {
        var (client, fd) = Monitor();
        var watched = Target(Nobody);
        var other = Target(Nobody);
        client.RegisterOk(fd, watched.Pid, KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXEC);
        other.ForkExit(0);
        other.Exec();
        other.Exit(0);
        AssertNothingQueued(client, fd);
    }

    [Fact]
    public void PROCESS_EXIT_waits_for_the_last_thread_when_the_leader_leaves_with_pthread_exit()
    {
        var (client, fd) = Monitor();
        var target = Target(Nobody);
        client.RegisterOk(fd, target.Pid, KMONITOR_PROCESS_EXIT | KMONITOR_THREAD_EXIT);
        int tid = int.Parse(target.Ok("leaderexit")[0]); // the leader is now a zombie; tid runs on
        AssertNothingQueued(client, fd);
        var late = Own(new KmClient());
        int lateFd = late.Open(Daemon.DevicePath);
        Assert.Equal("ok", late.Register(lateFd, target.Pid, KMONITOR_PROCESS_EXIT)); // still a live process
        target.Process.StandardInput.WriteLine("endall");
        target.Process.StandardInput.Flush();
        Assert.Equal(Expected(tid, KMONITOR_THREAD_EXIT), client.Expect());
        Assert.Equal(Expected(target.Pid, KMONITOR_PROCESS_EXIT), client.Expect());
        Assert.Equal(Expected(target.Pid, KMONITOR_PROCESS_EXIT), late.Expect());
    }
}
