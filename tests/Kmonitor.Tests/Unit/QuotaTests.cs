using Kmonitor.Interop;
using Kmonitor.Tests.Unit.Support;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Unit;

/// <summary>The limits per open file and per uid (ENOSPC), and that every way a registration goes gives its place back.</summary>
public sealed class QuotaTests : IDisposable
{
    private const int Process = 5_001_000; // made-up threads 5_001_001.. of a made-up process
    private readonly ServiceHarness _h = new(new ServiceOptions(MaxPerFile: 2, MaxPerUid: 3));

    public QuotaTests()
    {
        for (int i = 1; i <= 6; i++)
            _h.Proc.Task(Process + i, Process, 0);
    }

    public void Dispose() => _h.Dispose();

    [Fact]
    public void Past_the_per_file_limit_REGISTER_is_ENOSPC_but_widening_a_registration_is_not()
    {
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, Process + 1, KMONITOR_PROCESS_EXEC));
        Assert.Equal(0, _h.Register(file, Process + 2, KMONITOR_PROCESS_EXEC));
        Assert.Equal(Errno.ENOSPC, _h.Register(file, Process + 3, KMONITOR_PROCESS_EXEC));
        Assert.Equal(0, _h.Register(file, Process + 2, KMONITOR_PROCESS_FORK));
        Assert.Equal(2, _h.Service.Table.Count);
    }

    [Fact]
    public void The_per_uid_limit_counts_every_file_of_the_uid()
    {
        var first = _h.Open();
        var second = _h.Open();
        Assert.Equal(0, _h.Register(first, Process + 1, KMONITOR_PROCESS_EXEC));
        Assert.Equal(0, _h.Register(first, Process + 2, KMONITOR_PROCESS_EXEC));
        Assert.Equal(0, _h.Register(second, Process + 3, KMONITOR_PROCESS_EXEC));
        Assert.Equal(Errno.ENOSPC, _h.Register(second, Process + 4, KMONITOR_PROCESS_EXEC));
    }

    [Fact]
    public void Every_way_a_registration_goes_gives_its_place_back()
    {
        var first = _h.Open();
        var second = _h.Open();
        Assert.Equal(0, _h.Register(first, Process + 1, KMONITOR_PROCESS_EXEC));
        Assert.Equal(0, _h.Register(first, Process + 2, KMONITOR_THREAD_EXIT));
        Assert.Equal(0, _h.Register(second, Process + 3, KMONITOR_PROCESS_EXEC));

        Assert.Equal(0, _h.Deregister(first, Process + 1, KMONITOR_PROCESS_EXEC)); // DEREGISTER
        Assert.Equal(0, _h.Register(second, Process + 4, KMONITOR_PROCESS_EXEC));
        Assert.Equal(Errno.ENOSPC, _h.Register(second, Process + 5, KMONITOR_PROCESS_EXEC));

        _h.Exit(Process + 2, Process); // the target's exit
        _h.Pump();
        Assert.Equal(Errno.ENOSPC, _h.Register(second, Process + 5, KMONITOR_PROCESS_EXEC)); // the file's limit now
        var third = _h.Open();
        Assert.Equal(0, _h.Register(third, Process + 5, KMONITOR_PROCESS_EXEC));

        _h.Service.Release(second); // the file's close
        Assert.Equal(0, _h.Register(third, Process + 6, KMONITOR_PROCESS_EXEC));
        Assert.Equal(0, _h.Register(first, Process + 1, KMONITOR_PROCESS_EXEC));
        Assert.Equal(3, _h.Service.Table.Count);
    }

    [Fact]
    public void A_refused_REGISTER_opens_and_keeps_nothing()
    {
        using var target = new Infrastructure.KmTarget();
        var file = _h.Open();
        Assert.Equal(0, _h.Register(file, Process + 1, KMONITOR_PROCESS_EXEC));
        Assert.Equal(0, _h.Register(file, Process + 2, KMONITOR_PROCESS_EXEC));
        Assert.Equal(Errno.ENOSPC, _h.Register(file, target.Pid, KMONITOR_PROCESS_EXIT));
        Assert.Equal((0, 1), _h.Service.Watcher.Watched); // no pidfd for the refused target; the monitor's only
    }
}
