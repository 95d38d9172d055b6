using Kmonitor.Abi;
using Kmonitor.Events;
using Kmonitor.Tests.Infrastructure;
using Kmonitor.Tests.Unit.Support;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Unit;

/// <summary>
/// REGISTER with signal 0: notifications become records on the file, with every field a signal
/// cannot carry. The target is a real process (REGISTER takes its pidfd); events are written by the test.
/// </summary>
public sealed class RecordDeliveryTests : IDisposable
{
    private const int KilledBySigkill = 9; // a wait status
    private readonly ServiceHarness _h = new();
    private readonly KmTarget _target = new();

    public void Dispose()
    {
        _h.Dispose();
        _target.Dispose();
    }

    private static List<KmonitorEventRecord> ReadAll(Registrations.DeviceFile file)
    {
        var buffer = new byte[64 * 16];
        int n = file.Records.Read(buffer);
        return Enumerable.Range(0, n / 64).Select(i => KmonitorEventRecord.Read(buffer.AsSpan(i * 64))).ToList();
    }

    [Fact]
    public void Register_with_signal_0_queues_records_with_pid_status_name_and_watch_and_sends_no_signal()
    {
        var file = _h.Open();
        uint uid = _target.Uid;
        _h.Proc.NameOf(_target.Pid, "kmtarget");
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXIT | KMONITOR_PROCESS_ABORT, signal: 0));

        _h.Event(ProcEventWhat.PROC_EVENT_FORK, 4242, 4242, _target.Pid, _target.Pid);
        ulong forkedAt = _h.Now;
        _h.Proc.NameOf(_target.Pid, "renamed later"); // the exit must carry the name the record was first given
        Posix.Kill(_target.Pid, Posix.SIGKILL); // a process registration ends when its pidfd says so
        _target.WaitForExit();
        _h.Exit(_target.Pid, _target.Pid, KilledBySigkill);
        _h.Pump();

        Assert.Empty(_h.Delivery.Events);
        var records = ReadAll(file);
        Assert.Equal([KMONITOR_PROCESS_FORK, KMONITOR_PROCESS_ABORT, KMONITOR_PROCESS_EXIT], records.Select(r => (int)r.type));
        Assert.Equal([1u, 2u, 3u], records.Select(r => r.seq));
        Assert.All(records, r => Assert.Equal(KmonitorEventRecord.Size, r.size));
        Assert.All(records, r => Assert.Equal((uint)_target.Pid, r.watch));
        Assert.All(records, r => Assert.Equal("kmtarget", r.Comm));
        Assert.All(records, r => Assert.Equal(uid, r.uid));

        var fork = records[0];
        Assert.Equal((4242, 4242, _target.Pid, 0, forkedAt), (fork.pid, fork.tgid, fork.ppid, fork.status, fork.time_ns));
        var exit = records[2];
        Assert.Equal((_target.Pid, _target.Pid, KilledBySigkill), (exit.pid, exit.tgid, exit.status));
        Assert.Equal(exit.time_ns, records[1].time_ns);
        Assert.True(exit.time_ns > forkedAt);
        Assert.Equal(3, _h.Service.Counters.RecordsQueued);
    }

    [Fact]
    public void An_exec_reads_the_new_name()
    {
        var file = _h.Open();
        _h.Proc.NameOf(_target.Pid, "before");
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT, signal: 0));
        _h.Event(ProcEventWhat.PROC_EVENT_EXEC, _target.Pid, _target.Pid);
        _h.Pump();
        _h.Proc.NameOf(_target.Pid, "after");
        _h.Event(ProcEventWhat.PROC_EVENT_EXEC, _target.Pid, _target.Pid);
        _h.Pump();
        Assert.Equal(["before", "after"], ReadAll(file).Select(r => r.Comm));
    }

    [Fact]
    public void A_rename_is_followed_by_the_records_that_come_after_it()
    {
        var file = _h.Open();
        _h.Proc.NameOf(_target.Pid, "before");
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_FORK, signal: 0));
        _h.Proc.NameOf(_target.Pid, "gone from /proc by the time the COMM is handled");
        _h.Event(ProcEventWhat.PROC_EVENT_FORK, 4242, 4242, _target.Pid, _target.Pid);
        _h.Comm(_target.Pid, "after");
        _h.Event(ProcEventWhat.PROC_EVENT_FORK, 4243, 4243, _target.Pid, _target.Pid);
        _h.Pump();
        Assert.Equal(["before", "after"], ReadAll(file).Select(r => r.Comm));
    }

    [Fact]
    public void Records_and_signals_mix_on_one_file()
    {
        var file = _h.Open();
        int child = _target.Fork();
        Assert.Equal(0, _h.Register(file, _target.Pid, KMONITOR_PROCESS_EXEC, signal: 0));
        Assert.Equal(0, _h.Register(file, child, KMONITOR_PROCESS_EXEC, signal: 41));
        _h.Event(ProcEventWhat.PROC_EVENT_EXEC, _target.Pid, _target.Pid);
        _h.Event(ProcEventWhat.PROC_EVENT_EXEC, child, child);
        _h.Pump();
        Assert.Equal([(child, KMONITOR_PROCESS_EXEC)], _h.Delivery.Events);
        Assert.Equal([_target.Pid], ReadAll(file).Select(r => r.pid));
    }

    [Fact]
    public void A_full_queue_drops_and_counts_and_a_LOST_record_follows_the_read()
    {
        using var h = new ServiceHarness(new ServiceOptions(QueueLength: 2));
        var file = h.Service.Files.Open();
        Assert.Equal(0, h.Register(file, _target.Pid, KMONITOR_PROCESS_EXEC, signal: 0));
        for (int i = 0; i < 5; i++)
            h.Event(ProcEventWhat.PROC_EVENT_EXEC, _target.Pid, _target.Pid);
        h.Pump();
        Assert.Equal(3, h.Service.Counters.RecordsDropped);

        var first = ReadAll(file);
        Assert.Equal([(1u, KMONITOR_PROCESS_EXEC), (2u, KMONITOR_PROCESS_EXEC), (3u, SubscriptionAbi.KMONITOR_EVENT_LOST)],
            first.Select(r => (r.seq, (int)r.type)));
        Assert.Equal(3, first[2].status);
    }
}
