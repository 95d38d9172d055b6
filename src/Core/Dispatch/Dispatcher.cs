using System.Diagnostics;
using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Events;
using Kmonitor.Exits;
using Kmonitor.Procfs;
using Kmonitor.Records;
using Kmonitor.Registrations;
using Kmonitor.Signals;
using Kmonitor.Subscriptions;

namespace Kmonitor.Dispatch;

/// <summary>
/// Handles every event and marker completely, one handler per kind (as drivers/connector/cn_proc.c
/// has one function per event), on one of two threads: the listener's, for a batch it has just
/// received (<see cref="TryDispatchInline"/>), or the dispatcher's own, for what waits in the ring.
/// </summary>
/// <remarks>
/// Why two: a notification handled by the thread that received its event costs one wake-up, as a
/// raw netlink listener's does; handed over through the ring it costs two. But a slow dispatch
/// must never stop the socket being drained, so the listener handles only what is quick and only
/// while nothing waits in the ring; the rest goes through the ring (bounded by --buffer-length) to
/// this thread. The order and "one thread sends at a time" hold because of one rule: events and
/// markers are handled only under <see cref="_dispatchLock"/>, and the dispatcher thread takes
/// from the ring only while holding it. So a listener that holds the lock and finds the ring empty
/// knows every event received before its batch has been handled; once it queues one event, every
/// later one of the batch queues behind it, and the next batch finds the ring not empty and
/// queues too, until this thread has drained it. The listener only tries the lock (it never waits
/// for this thread), and markers from the request thread and the pidfd watcher always go through
/// the ring. Records queued by a batch wake their readers once, at its end (<see cref="RecordSender.EndBatch"/>),
/// so one answer to a parked read carries many records.
/// </remarks>
public sealed class Dispatcher : IDisposable
{
    private readonly EventRing _ring;
    private readonly RegistrationTable _table;
    private readonly ProcessWatcher _watcher;
    private readonly ExitReporter _exits;
    private readonly Notifier _notifier;
    private readonly RecordSender _records;
    private readonly OpenFiles _files;
    private readonly SubscriptionEngine _subscriptions;
    private readonly IProcReader _proc;
    private readonly Counters _counters;
    private readonly TimeProvider _time;
    private readonly Thread _thread;
    private readonly List<Match> _matches = new(64);
    private readonly KmonitorEvent[] _events = new KmonitorEvent[EventMapper.MaxPerEvent];
    private int _resyncRequested;

    /// <summary>Held by whichever thread handles events: the one proof that only one thread sends at a time, in order.</summary>
    private readonly object _dispatchLock = new();

    /// <summary>The most the dispatcher thread handles before its records' readers are woken.</summary>
    public const int MaxBatch = 256;

    /// <summary>
    /// How long the listener may spend on one batch before it queues the rest: a bound for what no
    /// check before the dispatch can see coming (a pid translated through /proc for a monitor in
    /// another pid namespace, a relay), so the socket waits at most about this long.
    /// </summary>
    public static readonly TimeSpan DefaultInlineBudget = TimeSpan.FromMicroseconds(500);

    /// <summary><see cref="DefaultInlineBudget"/>; a test that must not depend on the machine's speed sets another.</summary>
    public TimeSpan InlineBudget { get; set; } = DefaultInlineBudget;

    public Dispatcher(EventRing ring, RegistrationTable table, ProcessWatcher watcher, ExitReporter exits, Notifier notifier,
        OpenFiles files, SubscriptionEngine subscriptions, IProcReader proc, Counters counters, TimeProvider? time = null,
        RecordSender? records = null)
    {
        _records = records ?? new RecordSender(counters);
        _proc = proc;
        _subscriptions = subscriptions;
        _ring = ring;
        _table = table;
        _watcher = watcher;
        _exits = exits;
        _notifier = notifier;
        _files = files;
        _counters = counters;
        _time = time ?? TimeProvider.System;
        _lastTurn = _time.GetTimestamp();
        _thread = new Thread(Run) { Name = "kmonitor-dispatcher", IsBackground = true };
    }

    public void Start() => _thread.Start();

    /// <summary>A resync waits for the ring to drain (so it does not overtake events already received), but not longer than this.</summary>
    private static readonly TimeSpan MaxResyncDelay = TimeSpan.FromSeconds(1);

    private long _lastTurn;

    /// <summary>Whether the dispatcher loop has turned within <paramref name="within"/> (it turns at least every 250 ms).</summary>
    public bool IsTurning(TimeSpan within) => _time.GetElapsedTime(Volatile.Read(ref _lastTurn)) < within;

    /// <summary>Asks for a resync (every registered target checked) once the ring has drained; any thread.</summary>
    public void RequestResync() => Volatile.Write(ref _resyncRequested, 1);

    private void Run()
    {
        long resyncWanted = 0;
        while (true)
        {
            Volatile.Write(ref _lastTurn, _time.GetTimestamp());
            if (!DispatchBatch(resyncWanted != 0 ? 50 : 250) && _ring.IsCompleted)
                return;
            if (resyncWanted == 0 && Interlocked.Exchange(ref _resyncRequested, 0) == 1)
                resyncWanted = _time.GetTimestamp();
            if (resyncWanted != 0 && (_ring.Count == 0 || _time.GetElapsedTime(resyncWanted) > MaxResyncDelay))
            {
                resyncWanted = 0;
                lock (_dispatchLock) // it sends: the listener must not dispatch meanwhile
                    Resync();
            }
        }
    }

    private void Resync()
    {
        _records.BeginBatch();
        try
        {
            int ended = _exits.Resync();
            Log.Info($"resynchronised after the overflow: checked every registered target, {ended} had ended unreported");
            if (_subscriptions.Count != 0)
            {
                int lost = _subscriptions.Rebuild();
                Log.Info($"rebuilt subscription membership from /proc after the overflow: {lost} tree members could not be recovered");
            }
        }
        finally
        {
            _records.EndBatch();
        }
    }

    /// <summary>
    /// Takes the next event or marker from the ring, waiting up to <paramref name="timeoutMs"/>, and
    /// handles it; false when there was none. Public so tests can drive the dispatcher without its thread.
    /// </summary>
    public bool DispatchNext(int timeoutMs) => DispatchFromRing(timeoutMs, 1);

    /// <summary>The same for up to <see cref="MaxBatch"/> of them, their records' readers woken once at the end.</summary>
    public bool DispatchBatch(int timeoutMs) => DispatchFromRing(timeoutMs, MaxBatch);

    private bool DispatchFromRing(int timeoutMs, int most)
    {
        // Waits outside the lock, takes inside it: an event out of the ring is handled before anyone sees the ring empty.
        if (!_ring.WaitReadable(timeoutMs))
            return false;
        lock (_dispatchLock)
        {
            _records.BeginBatch();
            try
            {
                for (int i = 0; i < most && _ring.TryTake(out var ev, out object? subject); i++)
                    DispatchGuarded(ev, subject);
            }
            finally
            {
                _records.EndBatch();
            }
        }
        return true;
    }

    /// <summary>
    /// The listener's path: handles the events of <paramref name="batch"/> on the calling thread, from
    /// the first, as long as nothing waits in the ring, the lock is free (never waited for), each
    /// event is quick (<see cref="MayBeSlow"/>) and the batch is within <see cref="InlineBudget"/>.
    /// Returns how many it handled: the caller queues the rest, in order, into the ring.
    /// </summary>
    public int TryDispatchInline(ReadOnlySpan<ProcEvent> batch)
    {
        if (batch.IsEmpty || !_ring.IsEmpty || !Monitor.TryEnter(_dispatchLock))
            return 0;
        int handled = 0;
        try
        {
            if (!_ring.IsEmpty) // looked again under the lock: the dispatcher thread takes only under it
                return 0;
            _records.BeginBatch();
            try
            {
                long start = Stopwatch.GetTimestamp();
                while (handled < batch.Length && !MayBeSlow(batch[handled]))
                {
                    DispatchGuarded(batch[handled], null);
                    handled++;
                    if (Stopwatch.GetElapsedTime(start) > InlineBudget)
                        break;
                }
            }
            finally
            {
                _records.EndBatch();
            }
        }
        finally
        {
            Monitor.Exit(_dispatchLock);
        }
        return handled;
    }

    /// <summary>
    /// Whether handling <paramref name="ev"/> may read /proc, which the listener leaves to the
    /// dispatcher thread: an EXEC or a COMM when a subscription (its name matching) or a
    /// registration of the task (the name a record carries) may want the name. Forks and exits
    /// are matched and signalled from memory (but for one /proc read of a process subscriptions
    /// never saw, which <see cref="InlineBudget"/> bounds). Once a notification has gone to a
    /// monitor in another pid namespace (<see cref="Notifier.HasCrossedNamespaces"/>), any event
    /// may mean a /proc scan and a relay's round trip, and all go to the dispatcher thread.
    /// </summary>
    public bool MayBeSlow(in ProcEvent ev) => _notifier.HasCrossedNamespaces || ev.What switch
    {
        ProcEventWhat.PROC_EVENT_EXEC or ProcEventWhat.PROC_EVENT_COMM =>
            _subscriptions.Count != 0 || _table.HasTarget(ev.Pid) || _table.HasTarget(ev.Tgid),
        ProcEventWhat.PROC_EVENT_FORK or ProcEventWhat.PROC_EVENT_EXIT or ProcEventWhat.PROC_EVENT_UID => false,
        _ => true, // a marker, or a kind this code does not know: the dispatcher thread's
    };

    private void DispatchGuarded(in ProcEvent ev, object? subject)
    {
        try
        {
            Dispatch(ev, subject);
        }
        catch (Exception e)
        {
            // One bad event must not stop every later notification.
            Log.Error($"dispatching {ev.What} of {ev.Pid} failed: {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Handles one event completely. Public so tests and benchmarks can drive the dispatcher without a thread.</summary>
    /// <param name="subject">What a marker carries (see <see cref="EventRing.Post"/>).</param>
    public void Dispatch(in ProcEvent ev, object? subject = null)
    {
        // Registrations first, then subscriptions: each sees every event in order, and with no
        // subscription the second costs one comparison.
        DispatchToRegistrations(ev, subject);
        if (_subscriptions.Count != 0)
            _subscriptions.Handle(ev); // takes the kernel's events, passes over the markers
    }

    private void DispatchToRegistrations(in ProcEvent ev, object? subject)
    {
        switch (ev.What)
        {
            case ProcEventWhat.PROC_EVENT_FORK:
                OnFork(ev);
                break;
            case ProcEventWhat.PROC_EVENT_EXEC:
                OnExec(ev);
                break;
            case ProcEventWhat.PROC_EVENT_EXIT:
                OnExit(ev);
                break;
            case ProcEventWhat.PROC_EVENT_UID:
                _table.UpdateUid(ev.Pid, ev.RealUid, ev.TimestampNs);
                break;
            case ProcEventWhat.PROC_EVENT_COMM:
                OnComm(ev);
                break;
            case ProcEventWhat.KMONITORD_PROCESS_GONE:
                OnProcessGone((WatchedProcess)subject!);
                break;
            case ProcEventWhat.KMONITORD_MONITOR_GONE:
                _files.DropMonitor((MonitorProcess)subject!);
                break;
            case ProcEventWhat.KMONITORD_ENDED_AT_REGISTER:
                _exits.Report((EndedTask)subject!);
                break;
            case ProcEventWhat.KMONITORD_SUBSCRIPTION_CHANGE:
                ((SubscriptionChange)subject!).Apply(_subscriptions, (ulong)_table.NowNs()); // read before the scan Install makes
                break;
        }
    }

    /// <summary>A new process (PROCESS_FORK to the forking task) or a new thread (THREAD_CREATE to its process).</summary>
    private void OnFork(in ProcEvent ev)
    {
        if (ev.Pid != ev.Tgid && _table.HasTarget(ev.Tgid))
            _watcher.Find(ev.Tgid)?.CountTask(+1, ev.TimestampNs);
        MatchAndSend(ev, EventMapper.Map(ev, _events));
    }

    private void OnExec(in ProcEvent ev) => MatchAndSend(ev, EventMapper.Map(ev, _events));

    /// <summary>
    /// A task renamed itself (prctl PR_SET_NAME, or a write to /proc/PID/comm): the name records of its
    /// registrations carry from now on, the one the event carries (the task may be reaped by now).
    /// </summary>
    private void OnComm(in ProcEvent ev)
    {
        // A process registration's target is its leader, whose name is the process's.
        if (_table.HasTarget(ev.Pid))
            _table.UpdateComm(ev.Pid, _proc.CommOf(ev));
    }

    /// <summary>Every notification the event calls for, to every registration on the task and on its process.</summary>
    private void MatchAndSend(in ProcEvent ev, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var kev = _events[i];
            _matches.Clear();
            _table.CollectMatches(kev.TaskPid, kev.Bit, ev.TimestampNs, _matches);
            if (kev.ProcessPid != kev.TaskPid)
                _table.CollectMatches(kev.ProcessPid, kev.Bit, ev.TimestampNs, _matches);
            SendAll(kev, ev);
        }
    }

    /// <summary>
    /// A task exited. Registrations on a thread end with it; registrations on its process hear
    /// THREAD_ABORT/THREAD_EXIT like any other event. Registrations on the process end once its
    /// last thread's exit has been handled (<see cref="WatchedProcess.IsComplete"/>: every
    /// counted task reported, and the pidfd readable, which it is by the time the kernel sends the
    /// last EXIT, since exit_notify comes before proc_exit_connector). A leader that leaves with
    /// pthread_exit while others run does not end its process.
    /// </summary>
    private void OnExit(in ProcEvent ev)
    {
        int count = EventMapper.Map(ev, _events);
        if (ev.Tgid != ev.Pid)
        {
            if (_table.HasTarget(ev.Pid))
            {
                Interlocked.Increment(ref _counters.EventsMatched);
                _exits.EndTask(ev.Pid, ev.ExitCode, ev.TimestampNs);
            }
            for (int i = 0; i < count; i++)
            {
                var kev = _events[i];
                _matches.Clear();
                _table.CollectMatches(kev.ProcessPid, kev.Bit, ev.TimestampNs, _matches);
                SendAll(kev, ev);
            }
        }
        if (!_table.HasTarget(ev.Tgid) || _watcher.Find(ev.Tgid) is not { } process)
            return;
        process.CountTask(-1, ev.TimestampNs);
        if (process.IsComplete)
        {
            Interlocked.Increment(ref _counters.EventsMatched);
            // This thread was the last: its exit code is the process's (group_exit_code for exit_group).
            _exits.EndTask(ev.Tgid, ev.ExitCode, ev.TimestampNs);
        }
    }

    /// <summary>
    /// The pidfd watcher saw a process end, the grace period after: if the netlink path has not
    /// reported it, its events were lost (a full socket buffer or ring), and it is reported now.
    /// </summary>
    private void OnProcessGone(WatchedProcess process) => _exits.ProcessGone(process);

    private void SendAll(in KmonitorEvent kev, in ProcEvent ev)
    {
        if (_matches.Count == 0)
            return;
        Interlocked.Increment(ref _counters.EventsMatched);
        var notification = NotificationOf(kev, ev);
        // si_uid: the registration's target uid, kept current by UID events. A forked child or a new
        // thread starts with its parent's credentials, so it is theirs too.
        foreach (var match in _matches)
            _notifier.Notify(match, notification with { Uid = match.Registration.TargetUid });
        _matches.Clear();
    }

    /// <summary>What a notification of <paramref name="kev"/> says, beyond the bit: a record's fields.</summary>
    private static Notification NotificationOf(in KmonitorEvent kev, in ProcEvent ev)
    {
        int ppid = kev.Bit switch
        {
            KmonitorAbi.KMONITOR_PROCESS_FORK => ev.ParentTgid,
            KmonitorAbi.KMONITOR_THREAD_CREATE => ev.Tgid,
            _ when kev.EndsTask => ev.ParentTgid, // the connector's EXIT names the parent at exit
            _ => 0, // EXEC: not known without reading /proc, which this path does not do
        };
        int status = kev.EndsTask ? ev.ExitCode : 0;
        return new Notification(kev.Bit, kev.SubjectPid, ev.Tgid, ppid, 0, status, ev.TimestampNs);
    }

    public void Dispose()
    {
        _ring.Complete();
        if (_thread.IsAlive)
            _thread.Join();
    }
}
