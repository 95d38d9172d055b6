using Kmonitor.Tests.Infrastructure;
using Kmonitor.Tests.Unit.Support;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Unit;

/// <summary>After lost events, a resync checks every registered target and reports the ended ones, once.</summary>
public sealed class ResyncTests : IDisposable
{
    private readonly ServiceHarness _h = new();
    private readonly KmTarget _alive = new(), _killed = new();

    public void Dispose()
    {
        _h.Dispose();
        _alive.Dispose();
        _killed.Dispose();
    }

    [Fact]
    public void A_resync_reports_the_targets_that_ended_unreported_and_leaves_the_others()
    {
        const int Thread = 5_002_001, ItsProcess = 5_002_000;
        _h.Proc.Task(Thread, ItsProcess, 0);
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, _alive.Pid, KMONITOR_PROCESS_EXIT));
        Assert.Equal(0, _h.Register(file, _killed.Pid, KMONITOR_PROCESS_EXIT));
        Assert.Equal(0, _h.Register(file, Thread, KMONITOR_THREAD_EXIT));
        Posix.Kill(_killed.Pid, Posix.SIGKILL); // its events, and the thread's, were lost
        _killed.WaitForExit();
        _h.Proc.Gone(Thread);

        Assert.Equal(2, _h.Service.Exits.Resync());
        Assert.Equal([(_killed.Pid, KMONITOR_PROCESS_EXIT), (Thread, KMONITOR_THREAD_EXIT)], _h.Delivery.Events.Order());
        Assert.Equal(1, _h.Service.Table.Count);
        Assert.True(_h.Service.Table.HasTarget(_alive.Pid));
        Assert.Equal((1L, 2L), (_h.Service.Counters.Resyncs, _h.Service.Counters.ExitsFromResync));

        Assert.Equal(0, _h.Service.Exits.Resync()); // nothing twice
        Assert.Equal(2, _h.Delivery.Sent.Count);
    }
}
