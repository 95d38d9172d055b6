using Kmonitor.Diagnostics;
using Kmonitor.Events;
using Kmonitor.Registrations;

namespace Kmonitor.Dispatch;

/// <summary>
/// The dispatcher thread: takes events from the ring, maps them to kmonitor notifications, matches
/// them against the table and sends the signals. Everything but receiving happens here.
/// </summary>
public sealed class Dispatcher : IDisposable
{
    private readonly EventRing _ring;
    private readonly KmonitorService _service;
    private readonly Thread _thread;
    private readonly List<Match> _matches = new(64);
    private readonly KmonitorEvent[] _events = new KmonitorEvent[EventMapper.MaxPerEvent];

    public Dispatcher(EventRing ring, KmonitorService service)
    {
        _ring = ring;
        _service = service;
        _thread = new Thread(Run) { Name = "kmonitor-dispatcher", IsBackground = true };
    }

    public void Start() => _thread.Start();

    /// <summary>A resync waits for the ring to drain (so it does not overtake events already received), but not longer than this.</summary>
    private const long MaxResyncDelayMs = 1000;

    private long _lastTurnMs = Environment.TickCount64;

    /// <summary>Whether the dispatcher loop has turned within <paramref name="within"/> (it turns at least every 250 ms).</summary>
    public bool IsTurning(TimeSpan within) => Environment.TickCount64 - Volatile.Read(ref _lastTurnMs) < within.TotalMilliseconds;

    private void Run()
    {
        long resyncWanted = 0;
        while (true)
        {
            Volatile.Write(ref _lastTurnMs, Environment.TickCount64);
            bool got = _ring.TryRead(out var ev, resyncWanted != 0 ? 50 : 250);
            if (got)
            {
                try
                {
                    Dispatch(ev);
                }
                catch (Exception e)
                {
                    // One bad event must not stop every later notification.
                    Log.Error($"dispatching {ev.What} of {ev.Pid} failed: {e.GetType().Name}: {e.Message}");
                }
            }
            else if (_ring.IsCompleted)
            {
                return;
            }
            if (resyncWanted == 0 && _service.TakeResyncRequest())
                resyncWanted = Environment.TickCount64;
            if (resyncWanted != 0 && (_ring.Count == 0 || Environment.TickCount64 - resyncWanted > MaxResyncDelayMs))
            {
                resyncWanted = 0;
                int ended = _service.Resync(_matches);
                Log.Info($"resynchronised after the overflow: checked every registered target, {ended} had ended unreported");
            }
        }
    }

    /// <summary>Handles one event completely. Public so tests can drive the dispatcher without a thread.</summary>
    public void Dispatch(in ProcEvent ev)
    {
        if (ev.What == ProcEventWhat.PROC_EVENT_UID)
        {
            _service.Table.UpdateUid(ev.Pid, ev.RealUid, ev.TimestampNs);
            return;
        }
        if (ev.What == ProcEventWhat.KMONITORD_PROCESS_GONE)
        {
            DispatchProcessGone(ev);
            return;
        }
        int count = EventMapper.Map(ev, _events);
        if (count == 0)
            return;
        if (ev.What == ProcEventWhat.PROC_EVENT_EXIT)
        {
            DispatchExit(ev, count);
            return;
        }
        if (ev.What == ProcEventWhat.PROC_EVENT_FORK && ev.Pid != ev.Tgid && _service.Table.HasTarget(ev.Tgid))
            _service.Watcher.Find(ev.Tgid)?.CountTask(+1, ev.TimestampNs);
        for (int i = 0; i < count; i++)
        {
            var kev = _events[i];
            _matches.Clear();
            _service.Table.CollectMatches(kev.TaskPid, kev.Bit, ev.TimestampNs, _matches);
            if (kev.ProcessPid != kev.TaskPid)
                _service.Table.CollectMatches(kev.ProcessPid, kev.Bit, ev.TimestampNs, _matches);
            SendAll(kev);
        }
    }

    /// <summary>
    /// A task exited. Registrations on a thread end with it; registrations on its process hear
    /// THREAD_ABORT/THREAD_EXIT like any other event. Registrations on the process end once its
    /// last thread's exit has been handled (<see cref="Exits.WatchedProcess.IsComplete"/>: every
    /// counted task reported, and the pidfd readable, which it is by the time the kernel sends the
    /// last EXIT, since exit_notify comes before proc_exit_connector). A leader that leaves with
    /// pthread_exit while others run does not end its process.
    /// </summary>
    private void DispatchExit(in ProcEvent ev, int count)
    {
        if (ev.Tgid != ev.Pid)
        {
            if (_service.Table.HasTarget(ev.Pid))
            {
                Interlocked.Increment(ref _service.Counters.EventsMatched);
                _service.EndTask(ev.Pid, ev.ExitCode, ev.TimestampNs, _matches);
            }
            for (int i = 0; i < count; i++)
            {
                var kev = _events[i];
                _matches.Clear();
                _service.Table.CollectMatches(kev.ProcessPid, kev.Bit, ev.TimestampNs, _matches);
                SendAll(kev);
            }
        }
        if (!_service.Table.HasTarget(ev.Tgid) || _service.Watcher.Find(ev.Tgid) is not { } process)
            return;
        process.CountTask(-1, ev.TimestampNs);
        if (process.IsComplete)
        {
            Interlocked.Increment(ref _service.Counters.EventsMatched);
            // This thread was the last: its exit code is the process's (group_exit_code for exit_group).
            _service.EndTask(ev.Tgid, ev.ExitCode, ev.TimestampNs, _matches);
        }
    }

    /// <summary>
    /// The pidfd watcher saw a process end and the netlink path has not reported it: its events were
    /// lost (a full socket buffer or ring). Report it now, with the exit code /proc still has.
    /// </summary>
    private void DispatchProcessGone(in ProcEvent ev)
    {
        if (!_service.TryDequeueGone(out var process) || !_service.Table.HasTarget(process!.Tgid))
            return;
        int before = _service.Table.Count;
        _service.EndTask(process.Tgid, Procfs.TaskExitCode.TryRead(process.Tgid), Registrations.RegistrationTable.Now, _matches, boundTo: process);
        if (_service.Table.Count != before)
            Interlocked.Increment(ref _service.Counters.ExitsFromPidfd);
    }

    private void SendAll(in KmonitorEvent kev)
    {
        if (_matches.Count == 0)
            return;
        Interlocked.Increment(ref _service.Counters.EventsMatched);
        // si_uid: the registration's target uid, kept current by UID events. A forked child or a new
        // thread starts with its parent's credentials, so it is theirs too.
        foreach (var match in _matches)
            _service.Notify(match, kev.Bit, kev.SubjectPid, match.Registration.TargetUid);
        _matches.Clear();
    }

    public void Dispose()
    {
        _ring.Complete();
        if (_thread.IsAlive)
            _thread.Join();
    }
}
