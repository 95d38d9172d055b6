using BenchmarkDotNet.Attributes;
using Kmonitor.Abi;
using Kmonitor.Events;
using Kmonitor.Registrations;
using Kmonitor.Subscriptions;

namespace Kmonitor.Bench;

/// <summary>
/// What subscriptions that match nothing cost the dispatcher per event, in process: two services on
/// the real /proc, one with no subscription and one with <see cref="Names"/> NAME and
/// <see cref="Regexes"/> REGEX subscriptions installed in its engine (names no process has), and
/// the same events dispatched through each.
/// </summary>
/// <remarks>
/// The EXEC is of this process itself, which the install's /proc scan tracks as it would any
/// process alive then: with subscriptions the engine reads its /proc/PID/comm (the connector sends no
/// name), looks the name up among the NAME ones and runs the 10 expressions, as for every exec on the
/// machine; with none, the engine is not called. The FORK and EXIT pair is what the fork storm of
/// bench/run makes: a child of this process, tracked from its FORK and forgotten at its EXIT, with no
/// /proc read (child pids above any pid_max, so no real process is named).
/// </remarks>
[MemoryDiagnoser]
public class SubscriptionBenchmarks
{
    public const int Names = 100;
    public const int Regexes = 10;
    private const int FirstChild = 5_000_000; // above PID_MAX_LIMIT (4194304): never a real process

    private KmonitorService _bare = null!;
    private KmonitorService _subscribed = null!;
    private DeviceFile _file = null!;
    private MonitorProcess _self = null!;
    private ProcEvent _exec;
    private ulong _now;
    private int _child;
    private readonly List<System.Text.RegularExpressions.Regex> _regexes = [];
    private string _comm = "";

    [GlobalSetup]
    public void Setup()
    {
        _bare = new KmonitorService(ringCapacity: 16);
        _subscribed = new KmonitorService(ringCapacity: 16);
        _file = _subscribed.Open();
        int error = MonitorProcess.TryOpen(Environment.ProcessId, _file, 0, 0, out var self);
        if (error != 0)
            throw new InvalidOperationException($"pidfd_open of this process failed: errno {error}");
        _self = self!;

        ulong installedAt = (ulong)MonotonicClock.System.NowNs();
        uint id = 0;
        for (int i = 0; i < Names; i++)
            Install(++id, SubscriptionAbi.KMONITOR_SCOPE_NAME, $"kb-nomatch-{i}", installedAt);
        for (int i = 0; i < Regexes; i++)
            Install(++id, SubscriptionAbi.KMONITOR_SCOPE_REGEX, $"^kb-rx-{i}-[0-9]+$", installedAt);
        if (_subscribed.Subscriptions.Count != Names + Regexes)
            throw new InvalidOperationException($"{_subscribed.Subscriptions.Count} subscriptions installed, not {Names + Regexes}");

        _now = (ulong)MonotonicClock.System.NowNs(); // after every install: the events count for all of them
        int self_ = Environment.ProcessId;
        _exec = new ProcEvent(ProcEventWhat.PROC_EVENT_EXEC, 0, 0, _now, self_, self_, 0, 0, 0);
        _child = FirstChild;
        _comm = Procfs.ProcFile.ReadComm(self_) ?? throw new InvalidOperationException("this process has no /proc/PID/comm");
        // Warm both paths once, as the daemon's are after its first events.
        Dispatch_exec_unmatched_no_subscriptions();
        Dispatch_exec_unmatched_110_subscriptions();
        Dispatch_fork_exit_no_subscriptions();
        Dispatch_fork_exit_110_subscriptions();
        if (_subscribed.Counters.NamesUnreadAtExec != 0)
            throw new InvalidOperationException("the engine could not read this process's name: the EXEC case would measure nothing");
    }

    private void Install(uint id, uint scope, string pattern, ulong now)
    {
        var request = new KmonitorSubscription
        {
            scope = scope,
            type = KmonitorAbi.KMONITOR_PROCESS_FORK | KmonitorAbi.KMONITOR_PROCESS_EXEC | KmonitorAbi.KMONITOR_PROCESS_EXIT,
        };
        request.SetPattern(pattern);
        if (SubscriptionRequest.Validate(request, out var spec, out string? why) != 0)
            throw new InvalidOperationException($"'{pattern}': {why}");
        if (spec!.Pattern is { } regex)
            _regexes.Add(regex);
        int error = _subscribed.Subscriptions.Install(new Subscription(id, spec!, WatchRights.Unlimited, _file, _self), now);
        if (error != 0)
            throw new InvalidOperationException($"installing '{pattern}' failed: errno {error}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _subscribed.Release(_file);
        _subscribed.Dispose();
        _bare.Dispose();
        _self.Dispose();
    }

    /// <summary>The floor: an EXEC that matches nothing, with no subscription (the engine is not called).</summary>
    [Benchmark(Baseline = true)]
    public void Dispatch_exec_unmatched_no_subscriptions() => _bare.Dispatcher.Dispatch(in _exec);

    /// <summary>The same EXEC with 100 NAME and 10 REGEX subscriptions: its name read from /proc and matched against all.</summary>
    [Benchmark]
    public void Dispatch_exec_unmatched_110_subscriptions() => _subscribed.Dispatcher.Dispatch(in _exec);

    /// <summary>What the EXEC case cannot avoid: one read of /proc/PID/comm, as the daemon reads it (a name seen before is no new string).</summary>
    [Benchmark]
    public string? Read_proc_comm() => Procfs.ProcReader.Instance.ReadComm(Environment.ProcessId);

    /// <summary>What the EXEC case adds to the read: the 10 compiled expressions run on this process's name.</summary>
    [Benchmark]
    public int Match_10_regexes()
    {
        int matched = 0;
        foreach (var regex in _regexes)
            matched += regex.IsMatch(_comm) ? 1 : 0;
        return matched;
    }

    /// <summary>A storm child's FORK and EXIT, with no subscription; per event.</summary>
    [Benchmark(OperationsPerInvoke = 2)]
    public void Dispatch_fork_exit_no_subscriptions() => ForkExit(_bare);

    /// <summary>A storm child's FORK and EXIT with the 110 subscriptions: the child tracked, then forgotten; per event.</summary>
    [Benchmark(OperationsPerInvoke = 2)]
    public void Dispatch_fork_exit_110_subscriptions() => ForkExit(_subscribed);

    private void ForkExit(KmonitorService service)
    {
        int parent = Environment.ProcessId;
        int child = _child;
        _child = child == FirstChild + 1_000_000 ? FirstChild : child + 1;
        var fork = new ProcEvent(ProcEventWhat.PROC_EVENT_FORK, 0, 0, _now, child, child, parent, parent, 0);
        var exit = new ProcEvent(ProcEventWhat.PROC_EVENT_EXIT, 0, 0, _now, child, child, parent, parent, 0);
        service.Dispatcher.Dispatch(in fork);
        service.Dispatcher.Dispatch(in exit);
    }
}
