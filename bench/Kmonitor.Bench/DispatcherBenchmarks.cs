using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using Kmonitor.Abi;
using Kmonitor.Dispatch;
using Kmonitor.Events;
using Kmonitor.Registrations;

namespace Kmonitor.Bench;

/// <summary>
/// The dispatcher's cost per event, in process, against a table of <see cref="Registrations"/>
/// registrations on as many distinct target pids (even pids from 1000 up, as a busy machine with
/// pid_max 4194304 could have). Each invocation handles the next <see cref="Batch"/> events of a pool
/// of <see cref="Pool"/> whose pids are drawn at random, so a large table's lookups miss the CPU
/// caches as they would in real life; results are per event.
/// </summary>
/// <remarks>
/// Every registration's monitor is this process itself, through a real pidfd, and its signal
/// (SIGRTMIN+6) is set to SIG_IGN here: <see cref="Dispatch_matched_and_sent"/> then runs the whole
/// path down to pidfd_send_signal, which the kernel accepts and discards (an ignored signal is not
/// queued), so nothing piles up and nothing is delivered.
/// </remarks>
[MemoryDiagnoser]
public class DispatcherBenchmarks
{
    public const int Batch = 1024;
    public const int Pool = 64 * Batch;
    private const int Signal = 40; // SIGRTMIN+6 in the kernel's numbering; the runtime does not use it
    private const int FirstPid = 1000;

    [Params(1_000, 100_000, 1_000_000)]
    public int Registrations { get; set; }

    private KmonitorService _service = null!;
    private Dispatcher _dispatcher = null!;
    private MonitorProcess _self = null!;
    private ProcEvent[] _unmatched = null!;
    private ProcEvent[] _matched = null!;
    private int[] _matchedPids = null!;
    private int[] _missingPids = null!;
    private Dictionary<int, Registration> _plain = null!;
    private readonly List<Match> _matches = new(64);
    private int _next; // where the next batch starts in the pools

    [GlobalSetup]
    public void Setup()
    {
        if (signal(Signal, SIG_IGN) == SIG_ERR)
            throw new InvalidOperationException($"signal({Signal}, SIG_IGN) failed");
        _service = new KmonitorService(ringCapacity: 16);
        _dispatcher = _service.Dispatcher;
        var file = new DeviceFile(1);
        int error = MonitorProcess.TryOpen(Environment.ProcessId, file, 0, 0, out var self);
        if (error != 0)
            throw new InvalidOperationException($"pidfd_open of this process failed: errno {error}");
        _self = self!;
        _plain = new Dictionary<int, Registration>();
        const int mask = KmonitorAbi.KMONITOR_PROCESS_FORK | KmonitorAbi.KMONITOR_PROCESS_EXEC | KmonitorAbi.KMONITOR_PROCESS_EXIT;
        for (int i = 0; i < Registrations; i++)
        {
            int pid = FirstPid + 2 * i;
            var registration = new Registration(pid, pid, 1000, file);
            _service.Table.Add(registration, mask, Signal, _self);
            _plain[pid] = registration;
        }

        var random = new Random(20040101);
        ulong now = RegistrationTable.Now; // newer than every registration, so masks apply in full
        _missingPids = new int[Pool];
        _matchedPids = new int[Pool];
        _unmatched = new ProcEvent[Pool];
        _matched = new ProcEvent[Pool];
        for (int i = 0; i < Pool; i++)
        {
            int missing = FirstPid + 2 * random.Next(Registrations) + 1; // odd: never registered
            int other = FirstPid + 2 * random.Next(Registrations) + 1;
            _missingPids[i] = missing;
            _matchedPids[i] = FirstPid + 2 * random.Next(Registrations);
            // What a fork storm and ordinary life send: process forks and exits, execs, thread exits.
            _unmatched[i] = (i % 4) switch
            {
                0 => new ProcEvent(ProcEventWhat.PROC_EVENT_FORK, 0, 0, now, missing, missing, other, other, 0),
                1 => new ProcEvent(ProcEventWhat.PROC_EVENT_EXIT, 0, 0, now, missing, missing, other, other, 0),
                2 => new ProcEvent(ProcEventWhat.PROC_EVENT_EXEC, 0, 0, now, missing, missing, 0, 0, 0),
                _ => new ProcEvent(ProcEventWhat.PROC_EVENT_EXIT, 0, 0, now, missing, other, other, other, 0),
            };
            // EXEC of a registered target: matched, sent, and the registration stays for the next one.
            _matched[i] = new ProcEvent(ProcEventWhat.PROC_EVENT_EXEC, 0, 0, now, _matchedPids[i], _matchedPids[i], 0, 0, 0);
        }
        // Grow the scratch lists once, as the daemon's do after the first events.
        for (int i = 0; i < Pool / Batch; i++)
        {
            Dispatch_matched_and_sent();
            Dispatch_unmatched();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _service.Dispose();
        _self.Dispose();
        _plain = null!;
        _service = null!;
        GC.Collect();
    }

    /// <summary>The floor: one Dictionary&lt;int, Registration&gt; lookup that misses, with as many keys as the table.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public int Dictionary_lookup_miss()
    {
        int found = 0;
        foreach (int pid in NextBatch(_missingPids))
            found += _plain.ContainsKey(pid) ? 1 : 0;
        return found;
    }

    /// <summary>Events that match no registration: what almost every event of a busy machine is.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void Dispatch_unmatched()
    {
        foreach (ref readonly var ev in NextBatch(_unmatched))
            _dispatcher.Dispatch(in ev);
    }

    /// <summary>Matched but not sent: RegistrationTable.CollectMatches of a registered target.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public int CollectMatches_matched()
    {
        int n = 0;
        foreach (int pid in NextBatch(_matchedPids))
        {
            _service.Table.CollectMatches(pid, KmonitorAbi.KMONITOR_PROCESS_EXEC, RegistrationTable.Now, _matches);
            n += _matches.Count;
            _matches.Clear();
        }
        return n;
    }

    /// <summary>Matched and sent: Dispatch of an EXEC of a registered target, down to pidfd_send_signal.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public void Dispatch_matched_and_sent()
    {
        foreach (ref readonly var ev in NextBatch(_matched))
            _dispatcher.Dispatch(in ev);
    }

    private ReadOnlySpan<T> NextBatch<T>(T[] pool)
    {
        int start = _next;
        _next = (start + Batch) % Pool;
        return pool.AsSpan(start, Batch);
    }

    private static readonly nint SIG_IGN = 1;
    private static readonly nint SIG_ERR = -1;

    [DllImport("libc", SetLastError = true)]
    private static extern nint signal(int signum, nint handler);
}
