using Kmonitor.Events;
using Kmonitor.Tests.Infrastructure;
using Kmonitor.Tests.Unit.Support;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Unit;

/// <summary>
/// Exit ordering, in process: exactly one PROCESS_EXIT per registration whichever paths report it,
/// ABORT before EXIT, a process ends with its last thread, and nothing from before a registration.
/// Targets are real processes (their pidfds say when they are gone); events are written by the test.
/// </summary>
public sealed class ExitTests : IDisposable
{
    private const int SIGKILL = 9; // as a wait status: killed by signal 9
    private readonly ServiceHarness _h = new();
    private readonly KmTarget _target = new();

    public void Dispose()
    {
        _h.Dispose();
        _target.Dispose();
    }

    private void KillTarget()
    {
        Posix.Kill(_target.Pid, Posix.SIGKILL);
        _target.WaitForExit();
        _h.Proc.ExitCodeOf(_target.Pid, SIGKILL);
    }

    [Fact]
    public void Exactly_one_PROCESS_EXIT_whichever_paths_report_it_and_ABORT_first()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_ABORT));
        var process = _h.Service.Watcher.Find(_target.Pid)!;
        KillTarget();

        _h.Exit(_target.Pid, _target.Pid, SIGKILL);                                   // the netlink EXIT
        _h.Service.Ring.Post(ProcEvent.ProcessGone(_target.Pid, (long)_h.Now), process); // the pidfd watcher's report
        _h.Pump();
        Assert.Equal(0, _h.Service.Exits.Resync());                                       // and a resync
        Assert.Equal([(_target.Pid, KMONITOR_PROCESS_ABORT), (_target.Pid, KMONITOR_PROCESS_EXIT)], _h.Delivery.Events);
        Assert.Equal(0, _h.Service.Table.Count);
        Assert.Equal((0, 1), _h.Service.Watcher.Watched); // the target's pidfd is let go
    }

    [Fact]
    public void The_pidfd_path_reports_an_exit_whose_events_were_lost()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_EXIT));
        var process = _h.Service.Watcher.Find(_target.Pid)!;
        KillTarget();
        _h.Service.Ring.Post(ProcEvent.ProcessGone(_target.Pid, (long)_h.Now), process);
        _h.Pump();
        Assert.Equal([(_target.Pid, KMONITOR_PROCESS_EXIT)], _h.Delivery.Events);
        Assert.Equal(1, _h.Service.Counters.ExitsFromPidfd);
    }

    [Fact]
    public void A_thread_killed_by_a_signal_sends_THREAD_ABORT_then_THREAD_EXIT_to_its_own_and_its_process_registrations()
    {
        int tid = _target.Thread();
        var onThread = _h.Open();
        var onProcess = _h.Open();
        Assert.Equal(0, _h.Register(onThread, tid, KMONITOR_THREAD_EXIT | KMONITOR_THREAD_ABORT, signal: 41));
        Assert.Equal(0, _h.Register(onProcess, _target.Pid, KMONITOR_THREAD_EXIT | KMONITOR_THREAD_ABORT, signal: 42));
        _h.Exit(tid, _target.Pid, SIGKILL);
        _h.Pump();
        Assert.Equal([(41, KMONITOR_THREAD_ABORT), (41, KMONITOR_THREAD_EXIT), (42, KMONITOR_THREAD_ABORT), (42, KMONITOR_THREAD_EXIT)],
            _h.Delivery.Sent.Select(s => (s.Signal, s.Bit)));
        Assert.Equal(1, _h.Service.Table.Count); // the thread's registration ended with it; the process's stays
    }

    [Fact]
    public void PROCESS_EXIT_waits_for_the_last_thread_when_the_leader_leaves_first()
    {
        int tid = _target.Thread(); // two threads when REGISTER reads /proc
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_EXIT | KMONITOR_THREAD_EXIT));
        _h.Exit(_target.Pid, _target.Pid); // the leader's pthread_exit: the process lives on
        _h.Pump();
        Assert.Empty(_h.Delivery.Sent);

        KillTarget();
        _h.Exit(tid, _target.Pid, SIGKILL);
        _h.Pump();
        Assert.Equal([(tid, KMONITOR_THREAD_EXIT), (_target.Pid, KMONITOR_PROCESS_EXIT)], _h.Delivery.Events);
    }

    [Fact]
    public void An_exit_stamped_before_the_registration_does_not_end_it()
    {
        ulong before = _h.Now;
        _h.Time.Advance(TimeSpan.FromMilliseconds(1));
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_EXEC));
        // An earlier process with the same pid, reported late.
        Assert.True(_h.Service.Ring.TryWrite(new ProcEvent(ProcEventWhat.PROC_EVENT_EXEC, 0, 0, before, _target.Pid, _target.Pid, 0, 0, 0)));
        Assert.True(_h.Service.Ring.TryWrite(new ProcEvent(ProcEventWhat.PROC_EVENT_EXIT, 0, 0, before, _target.Pid, _target.Pid, 0, 0, 0)));
        _h.Pump();
        Assert.Empty(_h.Delivery.Sent);
        Assert.Equal(1, _h.Service.Table.Count);
    }

    [Fact]
    public void A_registration_without_exit_bits_ends_with_its_target_silently()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_EXEC));
        KillTarget();
        _h.Exit(_target.Pid, _target.Pid, SIGKILL);
        _h.Pump();
        Assert.Empty(_h.Delivery.Sent);
        Assert.Equal(0, _h.Service.Table.Count);
        Assert.Equal((0, 1), _h.Service.Watcher.Watched);
    }

    [Fact]
    public void Notifications_leave_in_the_order_their_causes_were_received()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT));
        _h.Event(ProcEventWhat.PROC_EVENT_EXEC, _target.Pid, _target.Pid);
        KillTarget();
        _h.Exit(_target.Pid, _target.Pid, SIGKILL);
        _h.Pump();
        Assert.Equal([(_target.Pid, KMONITOR_PROCESS_EXEC), (_target.Pid, KMONITOR_PROCESS_EXIT)], _h.Delivery.Events);
    }
}
