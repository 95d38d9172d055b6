using Kmonitor.Abi;
using Kmonitor.Events;
using Kmonitor.Interop;
using Kmonitor.Security;
using Kmonitor.Tests.Infrastructure;
using Kmonitor.Tests.Unit.Support;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Unit;

/// <summary>
/// Every row of the REGISTER/DEREGISTER table (README "Ioctl semantics", kmonitor(4) ERRORS), the
/// watch policy and translated pids, in process: made-up tasks, real pidfds, recorded signals.
/// The rows the kernel answers itself (EFAULT, ENOTCONN) stay with the integration tests; an
/// unknown ioctl number is <see cref="KmonitorDeviceTests"/>'.
/// </summary>
public sealed class RegisterTests : IDisposable
{
    private readonly ServiceHarness _h = new();
    private readonly List<IDisposable> _owned = [];

    // Made-up tids, above the largest pid_max (PID_MAX_LIMIT, 4194304): never a real task's.
    private const int Process = 5_000_000, Thread = 5_000_001, OtherUsersThread = 5_000_011, CallerThread = 5_000_021;

    public RegisterTests()
    {
        _h.Proc.Task(Process, Process, 1000);
        _h.Proc.Task(Thread, Process, 1000);
        _h.Proc.Task(OtherUsersThread, Process + 10, 1001);
    }

    private T Own<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    public void Dispose()
    {
        _h.Dispose();
        foreach (var owned in _owned)
            owned.Dispose();
    }

    [Fact]
    public void A_new_registration_is_0_and_hears_its_events()
    {
        var target = Own(new KmTarget());
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, target.Pid, KMONITOR_PROCESS_EXEC));
        _h.Event(ProcEventWhat.PROC_EVENT_EXEC, target.Pid, target.Pid);
        _h.Pump();
        Assert.Equal([new Sent(ServiceHarness.Self, ServiceHarness.Signal, target.Pid, target.Uid, KMONITOR_PROCESS_EXEC, false, Environment.CurrentManagedThreadId)],
            _h.Delivery.Sent);
    }

    [Fact]
    public void Registering_again_ors_the_mask_in_and_replaces_the_signal()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, Thread, KMONITOR_PROCESS_EXEC, signal: 40));
        Assert.Equal(0, _h.Register(file, Thread, KMONITOR_PROCESS_FORK, signal: 41));
        Assert.Equal(1, _h.Service.Table.Count);
        _h.Event(ProcEventWhat.PROC_EVENT_EXEC, Thread, Process);
        _h.Event(ProcEventWhat.PROC_EVENT_FORK, 5_000_050, 5_000_050, parentPid: Thread, parentTgid: Process);
        _h.Pump();
        Assert.Equal([(41, KMONITOR_PROCESS_EXEC), (41, KMONITOR_PROCESS_FORK)], _h.Delivery.Sent.Select(s => (s.Signal, s.Bit)));
    }

    [Theory]
    [InlineData(0, KMONITOR_PROCESS_EXIT, 40)]   // pid 0
    [InlineData(-5, KMONITOR_PROCESS_EXIT, 40)]  // negative pid
    [InlineData(Thread, 0, 40)]                  // type 0
    [InlineData(Thread, 0x80, 40)]               // a bit outside 0x7F
    [InlineData(Thread, 0x140, 40)]              // a good bit beside a bad one
    [InlineData(Thread, KMONITOR_PROCESS_EXIT, -1)]  // signal below 0 (0 asks for records)
    [InlineData(Thread, KMONITOR_PROCESS_EXIT, 65)]  // signal above 64
    public void Bad_arguments_are_EINVAL_and_register_nothing(int pid, int type, int signal)
    {
        Assert.Equal(Errno.EINVAL, _h.Register(_h.Open(), pid, type, signal));
        Assert.Equal(0, _h.Service.Table.Count);
    }

    [Fact]
    public void A_pid_with_no_task_is_ESRCH()
    {
        _h.Proc.Gone(5_000_099);
        Assert.Equal(Errno.ESRCH, _h.Register(_h.Open(), 5_000_099, KMONITOR_PROCESS_EXIT));
        Assert.Equal(0, _h.Service.Table.Count);
    }

    [Theory]
    [InlineData(0, new[] { KMONITOR_PROCESS_EXIT })]
    [InlineData(9, new[] { KMONITOR_PROCESS_ABORT, KMONITOR_PROCESS_EXIT })] // killed by SIGKILL
    public void PROCESS_EXIT_on_a_zombie_is_0_and_sent_by_the_dispatcher_exactly_once(int waitStatus, int[] expected)
    {
        var parent = Own(new KmTarget());
        int child = parent.Fork();
        parent.ExitChild(child, 0);
        WaitForZombie(child);
        _h.Proc.ExitCodeOf(child, waitStatus);
        var file = _h.Open();

        Assert.Equal(0, _h.Register(file, child, KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_ABORT));
        Assert.Empty(_h.Delivery.Sent); // the request thread sends nothing: it posted the exit to the ring
        Assert.Equal(0, _h.Service.Table.Count);

        _h.Exit(child, child, waitStatus); // the kernel's own event, as if it came late
        _h.Pump();
        Assert.Equal(expected.Select(bit => (child, bit)), _h.Delivery.Events);
        Assert.Equal(Errno.EINVAL, _h.Deregister(file, child, KMONITOR_PROCESS_EXIT)); // it ended with its target
    }

    [Fact]
    public void Deregister_clears_bits_and_removes_the_registration_with_the_last()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, Thread, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_FORK));
        Assert.Equal(0, _h.Deregister(file, Thread, KMONITOR_PROCESS_EXEC));
        _h.Event(ProcEventWhat.PROC_EVENT_EXEC, Thread, Process);
        _h.Pump();
        Assert.Empty(_h.Delivery.Sent);
        Assert.Equal(1, _h.Service.Table.Count);
        Assert.Equal(0, _h.Deregister(file, Thread, KMONITOR_PROCESS_FORK));
        Assert.Equal(0, _h.Service.Table.Count);
    }

    [Fact]
    public void Deregister_without_a_registration_is_EINVAL() =>
        Assert.Equal(Errno.EINVAL, _h.Deregister(_h.Open(), Thread, KMONITOR_PROCESS_EXIT));

    [Fact]
    public void Deregister_of_a_target_that_has_exited_is_EINVAL()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, Thread, KMONITOR_THREAD_EXIT));
        _h.Exit(Thread, Process);
        _h.Pump();
        Assert.Equal([(Thread, KMONITOR_THREAD_EXIT)], _h.Delivery.Events);
        Assert.Equal(Errno.EINVAL, _h.Deregister(file, Thread, KMONITOR_THREAD_EXIT));
    }

    [Fact]
    public void A_registration_from_an_other_open_file_is_its_own()
    {
        var first = _h.Open();
        var second = _h.Open();
        Assert.Equal(0, _h.Register(first, Thread, KMONITOR_PROCESS_EXEC));
        Assert.Equal(Errno.EINVAL, _h.Deregister(second, Thread, KMONITOR_PROCESS_EXEC));
        _h.Service.Release(first);
        Assert.Equal(0, _h.Service.Table.Count);
    }

    [Theory]
    [InlineData(1000u, 1000u, 0ul, true, 0)]          // the target is its own
    [InlineData(1000u, 1001u, 0ul, true, 0)]          // its effective uid is the target's
    [InlineData(1000u, 1000u, 0ul, false, Errno.EPERM)] // another user's target
    [InlineData(0u, 1000u, 0ul, false, 0)]             // root
    [InlineData(1000u, 1000u, 1ul << Capabilities.CAP_KILL, false, 0)]
    [InlineData(1000u, 1000u, 1ul << Capabilities.CAP_SYS_PTRACE, false, 0)]
    public void The_owner_policy_lets_a_caller_watch_its_own_user_or_anyone_with_privilege(uint uid, uint euid, ulong caps, bool ownTarget, int expected)
    {
        _h.Proc.Task(CallerThread, ServiceHarness.Self, uid, euid: euid, caps: caps);
        int target = ownTarget ? Thread : OtherUsersThread;
        if (ownTarget)
            _h.Proc.Task(Thread, Process, euid == uid ? uid : euid);
        Assert.Equal(expected, _h.Register(_h.Open(), target, KMONITOR_PROCESS_EXIT, caller: CallerThread));
    }

    [Fact]
    public void Capabilities_count_only_in_the_daemons_user_namespace()
    {
        _h.Proc.Task(CallerThread, ServiceHarness.Self, 1000, caps: 1ul << Capabilities.CAP_KILL);
        _h.Proc.UserNamespaceOf(CallerThread, 4_026_999_999);
        Assert.Equal(Errno.EPERM, _h.Register(_h.Open(), OtherUsersThread, KMONITOR_PROCESS_EXIT, caller: CallerThread));
    }

    [Fact]
    public void The_open_policy_lets_anyone_watch_anything()
    {
        using var open = new ServiceHarness(new ServiceOptions(WatchPolicyKind.Open));
        open.Proc.Task(CallerThread, ServiceHarness.Self, 1000);
        open.Proc.Task(OtherUsersThread, Process + 10, 1001);
        Assert.Equal(0, open.Register(open.Open(), OtherUsersThread, KMONITOR_PROCESS_EXIT, caller: CallerThread));
    }

    [Fact]
    public void A_known_caller_that_gave_up_root_is_judged_as_what_it_is_now()
    {
        _h.Proc.Task(CallerThread, ServiceHarness.Self, 0);
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, OtherUsersThread, KMONITOR_PROCESS_EXIT, caller: CallerThread, fsUid: 0));
        _h.Proc.Task(CallerThread, ServiceHarness.Self, 1000);
        Assert.Equal(Errno.EPERM, _h.Register(file, OtherUsersThread, KMONITOR_PROCESS_EXEC, caller: CallerThread, fsUid: 1000));
    }

    [Fact]
    public async Task A_caller_in_another_pid_namespace_is_translated_off_the_request_thread_and_answered_later()
    {
        const ulong Namespace = 4_026_000_777;
        _h.Proc.Task(CallerThread, ServiceHarness.Self, 0, depth: 1);
        _h.Proc.PidNamespaceOf(CallerThread, Namespace);
        _h.Proc.LocalPid(Namespace, 5, Thread);
        using var gate = new ManualResetEventSlim();
        _h.Proc.ScanGate = gate;
        var file = _h.Open();

        var answer = _h.Service.Registrar.Register(file, CallerThread, new KmonitorCmd(5, KMONITOR_PROCESS_EXEC, 40));
        Assert.False(answer.IsCompleted); // the scan is held: the request thread got its answer later
        gate.Set();
        Assert.Equal(0, await answer.AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, _h.Proc.ScanThreads);

        _h.Event(ProcEventWhat.PROC_EVENT_EXEC, Thread, Process);
        _h.Pump();
        var sent = Assert.Single(_h.Delivery.Sent);
        Assert.Equal((5, KMONITOR_PROCESS_EXEC, true), (sent.Pid, sent.Bit, sent.ThroughRelay)); // si_pid as the monitor named it

        Assert.Equal(0, _h.Deregister(file, 5, KMONITOR_PROCESS_EXEC, caller: CallerThread));
        Assert.Equal(0, _h.Service.Table.Count);
    }

    [Fact]
    public void A_caller_in_another_pid_namespace_naming_a_task_it_cannot_see_is_ESRCH()
    {
        _h.Proc.Task(CallerThread, ServiceHarness.Self, 0, depth: 1);
        _h.Proc.PidNamespaceOf(CallerThread, 4_026_000_778);
        Assert.Equal(Errno.ESRCH, _h.Register(_h.Open(), 6, KMONITOR_PROCESS_EXIT, caller: CallerThread));
        Assert.Equal(1, _h.Proc.Scans);
    }

    [Fact]
    public void A_caller_that_is_gone_is_ESRCH()
    {
        _h.Proc.Gone(CallerThread);
        Assert.Equal(Errno.ESRCH, _h.Register(_h.Open(), Thread, KMONITOR_PROCESS_EXIT, caller: CallerThread));
    }

    [Fact]
    public void A_closed_file_is_EBADF()
    {
        var file = _h.Open();
        _h.Service.Release(file);
        Assert.Equal(Errno.EBADF, _h.Register(file, Thread, KMONITOR_PROCESS_EXIT));
    }

    private static void WaitForZombie(int pid)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (!(Procfs.ProcTaskStatus.TryRead(pid, out var status) && status.HasExited))
        {
            if (Environment.TickCount64 > deadline)
                throw new TimeoutException($"{pid} did not become a zombie");
            System.Threading.Thread.Sleep(5);
        }
    }
}
