using Kmonitor.Abi;
using Kmonitor.Events;
using Kmonitor.Registrations;
using Microsoft.Extensions.Time.Testing;

namespace Kmonitor.Tests.Unit.Support;

/// <summary>
/// The engine in process, without a daemon, a netlink socket or threads of its own: made-up tasks
/// over the real /proc (<see cref="FakeProc"/>), a clock moved by hand, and signals recorded instead
/// of sent. Pidfds are real, so monitors and process targets are real processes. The test plays the
/// listener (it writes events into the ring) and the dispatcher thread (<see cref="Pump"/>).
/// </summary>
public sealed class ServiceHarness : IDisposable
{
    public const int Signal = 40;

    public FakeProc Proc { get; } = new();
    public FakeTimeProvider Time { get; } = new();
    public RecordingDelivery Delivery { get; } = new();
    public KmonitorService Service { get; }

    public ServiceHarness(ServiceOptions? options = null) =>
        Service = new KmonitorService(options, ringCapacity: 64, Proc, Time, Delivery);

    /// <summary>This test process: a real monitor (its pidfd opens), as root, in the daemon's namespaces.</summary>
    public static int Self => Environment.ProcessId;

    public DeviceFile Open() => Service.Files.Open();

    public int Register(DeviceFile file, int target, int type, int signal = Signal, int caller = 0, uint? fsUid = null) =>
        Service.Register(file, caller == 0 ? Self : caller, new KmonitorCmd(target, type, signal), fsUid);

    public int Deregister(DeviceFile file, int target, int type, int caller = 0) =>
        Service.Deregister(file, caller == 0 ? Self : caller, new KmonitorCmd(target, type, Signal));

    /// <summary>Now, by the clock that stamps registrations and (in these tests) events.</summary>
    public ulong Now => (ulong)Service.Table.NowNs();

    /// <summary>The kernel's event, stamped now (the clock moved on a little first, as it would have).</summary>
    public void Event(ProcEventWhat what, int pid, int tgid, int parentPid = 0, int parentTgid = 0, int exitCode = 0)
    {
        Time.Advance(TimeSpan.FromMicroseconds(10));
        Assert.True(Service.Ring.TryWrite(new ProcEvent(what, 0, 0, Now, pid, tgid, parentPid, parentTgid, exitCode)), "the ring is full");
    }

    public void Exit(int pid, int tgid, int exitCode = 0) => Event(ProcEventWhat.PROC_EVENT_EXIT, pid, tgid, exitCode: exitCode);

    /// <summary>A rename: the COMM event carries the new name, as the kernel's does.</summary>
    public void Comm(int pid, string name)
    {
        Time.Advance(TimeSpan.FromMicroseconds(10));
        Assert.True(Service.Ring.TryWrite(ProcEvent.Comm(0, 0, Now, pid, pid, System.Text.Encoding.UTF8.GetBytes(name))), "the ring is full");
    }

    /// <summary>Handles everything in the ring, as the dispatcher thread would; returns how many it handled.</summary>
    public int Pump()
    {
        int handled = 0;
        while (Service.Dispatcher.DispatchNext(0))
            handled++;
        return handled;
    }

    /// <summary>Handles what comes into the ring until <paramref name="done"/> holds (the pidfd watcher posts on its own time).</summary>
    public void PumpUntil(Func<bool> done, string what, int timeoutMs = 10_000)
    {
        var deadline = Environment.TickCount64 + timeoutMs;
        while (!done())
        {
            if (Environment.TickCount64 > deadline)
                throw new TimeoutException($"waited {timeoutMs} ms for {what}");
            Service.Dispatcher.DispatchNext(50);
        }
    }

    /// <summary>Registrations the file holds for each of its monitors.</summary>
    public int RegistrationsOf(int monitor) => Service.Files.Monitors().Where(m => m.Pid == monitor).Sum(m => m.Registrations);

    public void Dispose() => Service.Dispose();
}
