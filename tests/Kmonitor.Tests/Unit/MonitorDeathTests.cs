using Kmonitor.Interop;
using Kmonitor.Tests.Infrastructure;
using Kmonitor.Tests.Unit.Support;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Unit;

/// <summary>A monitor that dies loses everything it registered, and nothing it held stays behind.</summary>
public sealed class MonitorDeathTests : IDisposable
{
    private const int Process = 5_003_000; // made-up threads 5_003_001.. of a made-up process
    private readonly ServiceHarness _h = new(new ServiceOptions(MaxPerUid: 2));
    private readonly KmTarget _monitor = new(), _target = new();

    public MonitorDeathTests()
    {
        for (int i = 1; i <= 3; i++)
            _h.Proc.Task(Process + i, Process, 0);
    }

    public void Dispose()
    {
        _h.Dispose();
        _monitor.Dispose();
        _target.Dispose();
    }

    [Fact]
    public void A_monitor_whose_process_exits_is_dropped_through_the_ring_with_all_it_held()
    {
        var file = _h.Open(); // a child would keep it open: the monitor's death alone must clean up
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_EXIT, caller: _monitor.Pid));
        Assert.Equal(0, _h.Register(file, Process + 1, KMONITOR_PROCESS_EXEC, caller: _monitor.Pid));
        Assert.Equal((1, 1), _h.Service.Watcher.Watched);
        _h.Service.Watcher.Start();

        Posix.Kill(_monitor.Pid, Posix.SIGKILL);
        _monitor.WaitForExit();
        _h.PumpUntil(() => _h.Service.Table.Count == 0, "the dead monitor's registrations to go");

        Assert.Empty(_h.Service.Files.Monitors());
        Assert.Equal((0, 0), _h.Service.Watcher.Watched); // the target's pidfd and the monitor's are closed
        Assert.Empty(_h.Delivery.Sent);                    // nothing was even tried
        Assert.Equal(0, _h.Register(file, Process + 2, KMONITOR_PROCESS_EXEC)); // the uid's places are back
        Assert.Equal(0, _h.Register(file, Process + 3, KMONITOR_PROCESS_EXEC));
    }

    [Fact]
    public void A_monitor_a_signal_finds_gone_is_dropped_and_never_tried_again()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, Process + 1, KMONITOR_PROCESS_EXEC, caller: _monitor.Pid));
        Assert.Equal(0, _h.Register(file, Process + 2, KMONITOR_PROCESS_EXEC, caller: _monitor.Pid));
        _h.Delivery.Answers[_monitor.Pid] = Errno.ESRCH;
        _h.Event(Events.ProcEventWhat.PROC_EVENT_EXEC, Process + 1, Process);
        _h.Event(Events.ProcEventWhat.PROC_EVENT_EXEC, Process + 2, Process);
        _h.Pump();
        Assert.Single(_h.Delivery.Sent);
        Assert.Equal(1, _h.Service.Counters.DroppedMonitorGone);
        Assert.Equal(0, _h.Service.Table.Count);
        Assert.Empty(_h.Service.Files.Monitors());
    }

    [Fact]
    public void A_monitor_with_a_full_signal_queue_is_counted_and_kept()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, Process + 1, KMONITOR_PROCESS_EXEC, caller: _monitor.Pid));
        _h.Delivery.Answers[_monitor.Pid] = Errno.EAGAIN;
        _h.Event(Events.ProcEventWhat.PROC_EVENT_EXEC, Process + 1, Process);
        _h.Event(Events.ProcEventWhat.PROC_EVENT_EXEC, Process + 1, Process);
        _h.Pump();
        Assert.Equal(2, _h.Service.Counters.DroppedQueueFull);
        Assert.Equal(2, Assert.Single(_h.Service.Files.Monitors()).DroppedQueueFull);
        Assert.Equal(1, _h.Service.Table.Count);
    }

    [Fact]
    public void A_REGISTER_that_finds_its_process_monitor_dead_drops_it_first()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, Process + 1, KMONITOR_PROCESS_EXEC, caller: _monitor.Pid));
        Posix.Kill(_monitor.Pid, Posix.SIGKILL);
        _monitor.WaitForExit();
        // Before the watcher says so, a thread naming the dead process as its own calls: its pidfd
        // cannot be opened any more, and the dead monitor's registration goes first.
        _h.Proc.Task(Process + 9, _monitor.Pid, 0);
        Assert.Equal(Errno.ESRCH, _h.Register(file, Process + 2, KMONITOR_PROCESS_EXEC, caller: Process + 9));
        Assert.Equal(0, _h.Service.Table.Count);
        Assert.Empty(_h.Service.Files.Monitors());
    }
}
