using System.Diagnostics;
using Kmonitor.Abi;
using Kmonitor.Events;
using Kmonitor.Procfs;
using Kmonitor.Tests.Infrastructure;
using Kmonitor.Tests.Unit.Support;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// The real process connector overflowing while the listener itself is busy dispatching: the
/// engine in process (real socket, real /proc, real pidfds, signals recorded instead of sent), its
/// listener dispatching inline as the daemon's does. The first notification's send is held while
/// the other targets die in a fork storm. Which thread sent it depends on the moment: the listener
/// (it then stops draining the socket, as a SIGSTOP of the daemon would: ENOBUFS) or the
/// dispatcher thread (it then holds the dispatch lock, so the listener can only queue, and the
/// small ring fills). Either way events are lost, and once the send goes on the overflow must end
/// in a resync and every target's exit must be reported, once.
/// </summary>
public class OverflowInlineDispatchTests
{
    private const int Targets = 20;
    private const int RingCapacity = 64; // far fewer than the storm's 2,000 events
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public void An_overflow_while_the_listener_dispatches_ends_in_a_resync_and_every_exit_reported_once()
    {
        Root.Require();
        var delivery = new RecordingDelivery();
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        int sends = 0;
        delivery.BeforeSend = () =>
        {
            if (Interlocked.Increment(ref sends) == 1)
            {
                held.Set();
                release.Wait(Deadline);
            }
        };
        using var service = new KmonitorService(ringCapacity: RingCapacity, proc: ProcReader.Instance, delivery: delivery);
        using var listener = new EventListener(service.Ring, service.Counters, 65536, service.Dispatcher.RequestResync,
            service.Dispatcher.TryDispatchInline);
        var targets = Enumerable.Range(0, Targets).Select(_ => Process.Start("sleep", "1000")).ToList();
        try
        {
            service.Dispatcher.Start();
            service.Watcher.Start();
            listener.Start();
            var file = service.Open();
            foreach (var t in targets)
                Assert.Equal(0, service.Register(file, Environment.ProcessId, new KmonitorCmd(t.Id, KMONITOR_PROCESS_EXIT, 40)));

            // The first exit's send is held, on whichever thread dispatched it.
            Posix.Kill(targets[0].Id, Posix.SIGKILL);
            Assert.True(held.Wait(Deadline), "the first target's exit was never sent");
            foreach (var t in targets.Skip(1))
                Posix.Kill(t.Id, Posix.SIGKILL);
            using (var storm = Process.Start("sh", ["-c", "i=0; while [ $i -lt 1000 ]; do ( : ); i=$((i+1)); done"]))
                storm.WaitForExit();
            release.Set();

            var watch = Stopwatch.StartNew();
            while (ExitsSent(delivery).Count < Targets || Volatile.Read(ref service.Counters.Resyncs) == 0)
            {
                Assert.True(watch.Elapsed < Deadline,
                    $"after {Deadline}: {ExitsSent(delivery).Count} of {Targets} exits, {service.Counters.Resyncs} resyncs, " +
                    $"{service.Counters.DroppedNoBuffers} ENOBUFS, {service.Counters.DroppedRingFull} ring full");
                Thread.Sleep(20); // polling the counters: the engine's threads give no signal a test could wait on
            }
            Assert.True(service.Counters.DroppedNoBuffers + service.Counters.DroppedRingFull > 0,
                "the storm overflowed neither the socket nor the ring: the test proved nothing");
            Assert.Equal(targets.Select(t => t.Id).Order(), ExitsSent(delivery).Order());
        }
        finally
        {
            release.Set();
            foreach (var t in targets)
            {
                if (!t.HasExited)
                    t.Kill();
                t.WaitForExit();
                t.Dispose();
            }
        }
    }

    private static List<int> ExitsSent(RecordingDelivery delivery) =>
        delivery.Sent.Where(s => s.Bit == KMONITOR_PROCESS_EXIT).Select(s => s.Pid).ToList();
}
