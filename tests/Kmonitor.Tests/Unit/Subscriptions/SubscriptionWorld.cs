using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Events;
using Kmonitor.Subscriptions;
using Kmonitor.Tests.Unit.Support;

namespace Kmonitor.Tests.Unit.Subscriptions;

/// <summary>
/// A made-up machine for the subscription engine: processes in a <see cref="FakeProc"/> (pids above
/// the kernel's PID_MAX_LIMIT, so none can be real), a clock the test moves, and connector events
/// stamped by it, handed to the engine in order as the dispatcher would.
/// </summary>
public sealed class SubscriptionWorld
{
    /// <summary>Above PID_MAX_LIMIT (4,194,304): no real task has such a pid.</summary>
    public const int Base = 5_000_000;

    public FakeProc Proc { get; } = new();
    public RecordingSink Sink { get; } = new();
    public Counters Counters { get; } = new();
    public SubscriptionEngine Engine { get; }
    public object File { get; } = new();

    private ulong _now = 1_000_000;
    private uint _nextId = 1;

    /// <summary>The engine's clock reads the world's: a /proc reading is dated now, before the next event's stamp.</summary>
    public SubscriptionWorld() => Engine = new SubscriptionEngine(Proc, Sink, Counters, () => _now);

    /// <summary>Moves the clock on and returns the new time: each event is stamped after the last.</summary>
    public ulong Tick() => _now += 1_000;

    public ulong Now => _now;

    public Subscription Make(uint scope, int type, int pid = 0, string? pattern = null, uint flags = 0, WatchRights? rights = null, object? file = null)
    {
        var request = new KmonitorSubscription { scope = scope, type = (uint)type, pid = pid, flags = flags };
        if (pattern is not null)
            request.SetPattern(pattern);
        Assert.Equal(0, SubscriptionRequest.Validate(request, out var spec, out string? why));
        Assert.Null(why);
        return new Subscription(_nextId++, spec!, rights ?? WatchRights.Unlimited, file ?? File);
    }

    /// <summary>Makes and installs one; asserts it was accepted.</summary>
    public Subscription Subscribe(uint scope, int type, int pid = 0, string? pattern = null, uint flags = 0, WatchRights? rights = null, object? file = null)
    {
        var s = Make(scope, type, pid, pattern, flags, rights, file);
        Assert.Equal(0, Engine.Install(s, Tick()));
        return s;
    }

    public void Fork(int parent, int child) =>
        Engine.Handle(ProcEvent.Fork(parent, parent, child, child) with { TimestampNs = Tick() });

    /// <summary>A FORK stamped <paramref name="at"/> (before a subscription, when a test says so).</summary>
    public void ForkAt(ulong at, int parent, int child) =>
        Engine.Handle(ProcEvent.Fork(parent, parent, child, child) with { TimestampNs = at });

    public void Thread(int process, int thread) =>
        Engine.Handle(ProcEvent.Fork(1, 1, thread, process) with { TimestampNs = Tick() });

    public void Exec(int pid) => Engine.Handle(ProcEvent.Exec(pid, pid) with { TimestampNs = Tick() });

    /// <summary>An EXIT stamped <paramref name="at"/>: one that happened before the scan that follows it.</summary>
    public void ExitAt(ulong at, int pid, int parent) =>
        Engine.Handle(ProcEvent.Exit(pid, pid, 0) with { TimestampNs = at, ParentPid = parent, ParentTgid = parent });

    public void Exit(int pid, int status = 0, int parent = 0, int tgid = 0) =>
        Engine.Handle(ProcEvent.Exit(pid, tgid == 0 ? pid : tgid, status) with { TimestampNs = Tick(), ParentPid = parent, ParentTgid = parent });

    /// <summary>A COMM event carrying the name the process has now (as the kernel's carries the name just set).</summary>
    public void Comm(int pid) =>
        Engine.Handle(ProcEvent.Comm(0, 0, Tick(), pid, pid, System.Text.Encoding.UTF8.GetBytes(Proc.ReadComm(pid) ?? "")));

    public void Uid(int pid, uint uid) =>
        Engine.Handle(new ProcEvent(ProcEventWhat.PROC_EVENT_UID, 0, 0, Tick(), pid, pid, 0, 0, 0, uid));
}
