using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Records;
using Kmonitor.Registrations;
using Kmonitor.Signals;
using Kmonitor.Subscriptions;
using Kmonitor.Tests.Unit.Support;
using static Kmonitor.Abi.KmonitorAbi;
using static Kmonitor.Abi.SubscriptionAbi;

namespace Kmonitor.Tests.Unit.Subscriptions;

/// <summary>The engine wired to the daemon's real notifier: a record on the file, or the signal, named by the subscription.</summary>
public class NotifierSinkTests
{
    private const int Shell = SubscriptionWorld.Base;

    [Fact]
    public void A_record_subscription_queues_struct_kmonitor_event_with_its_id_and_a_signal_one_sends_the_signal()
    {
        var counters = new Counters();
        var delivery = new RecordingDelivery();
        var proc = new FakeProc();
        proc.Process(Shell, 1, "sh", uid: 1000);
        using var notifier = new Notifier(delivery, new RecordSender(counters), proc, counters, _ => { });
        var engine = new SubscriptionEngine(proc, new NotifierSink(notifier), counters, () => 1_000);
        var file = new DeviceFile(7);
        Assert.Equal(0, MonitorProcess.TryOpen(Environment.ProcessId, file, 0, 0, out var monitor));
        using var _ = monitor;

        var world = new SubscriptionWorld();
        var records = Rebind(world.Make(KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_FORK | KMONITOR_PROCESS_EXISTING, pattern: "sh"), 5, file, monitor!, signal: 0);
        var signals = Rebind(world.Make(KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_FORK, pid: Shell), 6, file, monitor!, signal: 40);
        Assert.Equal(0, engine.Install(records, 1_000));
        Assert.Equal(0, engine.Install(signals, 1_000));
        engine.Handle(Kmonitor.Events.ProcEvent.Fork(Shell, Shell, Shell + 1, Shell + 1) with { TimestampNs = 2_000 });

        var buffer = new byte[4 * KmonitorEventRecord.Size];
        Assert.Equal(2 * KmonitorEventRecord.Size, file.Records.Read(buffer));
        var existing = KmonitorEventRecord.Read(buffer);
        var fork = KmonitorEventRecord.Read(buffer.AsSpan(KmonitorEventRecord.Size));
        Assert.Equal((KMONITOR_PROCESS_EXISTING, Shell, 1, 1000u, 5u, "sh", 1_000ul),
            ((int)existing.type, existing.pid, existing.ppid, existing.uid, existing.watch, existing.Comm, existing.time_ns));
        Assert.Equal((KMONITOR_PROCESS_FORK, Shell + 1, Shell + 1, Shell, 5u, "sh", 2_000ul),
            ((int)fork.type, fork.pid, fork.tgid, fork.ppid, fork.watch, fork.Comm, fork.time_ns));

        var sent = Assert.Single(delivery.Sent);
        Assert.Equal((Environment.ProcessId, 40, Shell + 1, 1000u, KMONITOR_PROCESS_FORK), (sent.Monitor, sent.Signal, sent.Pid, sent.Uid, sent.Bit));
    }

    /// <summary>The same request with the id, owner and signal the daemon would give it.</summary>
    private static Subscription Rebind(Subscription s, uint id, DeviceFile file, MonitorProcess monitor, int signal) =>
        new(id, s.Spec with { Signal = signal }, s.Rights, file, monitor);
}
