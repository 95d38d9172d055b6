using Kmonitor.Diagnostics;
using Kmonitor.Interop;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Kmonitor.Exits;

/// <summary>
/// Holds a pidfd for every registered target process and watches them all with epoll. The netlink
/// EXIT event is the normal path; this is the backstop that makes an exit impossible to lose: when
/// a pidfd turns readable, <see cref="ProcessGone"/> is raised after a short grace period, by which
/// time the connector's own events for that exit have normally been dispatched already.
/// </summary>
public sealed unsafe class ProcessWatcher : IDisposable
{
    /// <summary>
    /// How long the netlink path gets to report an exit before the pidfd path does. Generous: the
    /// pidfd path is for lost events, and reporting early would put PROCESS_EXIT before THREAD_*
    /// events still on their way through a loaded machine.
    /// </summary>
    public static readonly TimeSpan GracePeriod = TimeSpan.FromMilliseconds(500);

    private readonly object _gate = new();
    private readonly Dictionary<int, WatchedProcess> _current = [];   // the live process of each pid
    private readonly Dictionary<ulong, WatchedProcess> _byId = [];    // every target process epoll watches
    private readonly Dictionary<ulong, Registrations.MonitorProcess> _monitors = [];  // and every monitor
    private readonly FileDescriptorHandle _epoll;
    private readonly Thread _thread;
    private readonly List<(WatchedProcess Process, long Due)> _pending = [];
    private ulong _nextId;
    private volatile bool _stopping;

    /// <summary>Raised on the watcher's thread, with the time the exit was seen (CLOCK_MONOTONIC ns).</summary>
    public event Action<WatchedProcess, long>? ProcessGone;

    /// <summary>Raised on the watcher's thread when a monitor process has exited: its registrations can go.</summary>
    public event Action<Registrations.MonitorProcess>? MonitorGone;

    /// <summary>Monitor ids have this bit set in epoll's data, target ids do not.</summary>
    private const ulong MonitorBit = 1UL << 63;

    public ProcessWatcher()
    {
        _epoll = new FileDescriptorHandle(epoll_create1(EPOLL_CLOEXEC));
        if (_epoll.IsInvalid)
            throw KmonitorException.FromErrno("epoll_create1", Errno.Last);
        _thread = new Thread(Run) { Name = "kmonitor-pidfd-watcher", IsBackground = true };
    }

    public void Start() => _thread.Start();

    /// <summary>
    /// A reference to the process <paramref name="tgid"/> for one more registration; opens its pidfd
    /// the first time. Returns the errno of pidfd_open on failure (ESRCH: no such process;
    /// EINVAL: not a thread-group leader).
    /// </summary>
    /// <param name="liveTasks">Its live threads, read from /proc at <paramref name="countedSinceNs"/>.</param>
    public int Acquire(int tgid, int liveTasks, long countedSinceNs, out WatchedProcess? process)
    {
        lock (_gate)
        {
            if (_current.TryGetValue(tgid, out process) && !process.HasExited)
            {
                process.References++;
                return 0;
            }
            var pidfd = Pidfd.pidfd_open(tgid, 0);
            if (pidfd.IsInvalid)
            {
                int error = Errno.Last;
                pidfd.Dispose(); // only suppresses its finalizer: there is no descriptor to close
                process = null;
                return error;
            }
            process = new WatchedProcess(tgid, pidfd, ++_nextId) { References = 1 };
            process.InitializeLiveTasks(liveTasks, countedSinceNs);
            var ev = new epoll_event { events = EPOLLIN, data = new epoll_data_t { u64 = process.Id } };
            if (Epoll.epoll_ctl(_epoll, EPOLL_CTL_ADD, pidfd, &ev) != 0)
            {
                int errno = Errno.Last;
                process.Pidfd.Dispose();
                process = null;
                return errno;
            }
            _current[tgid] = process; // a dead process with this pid stays in _byId until released
            _byId[process.Id] = process;
            return 0;
        }
    }

    /// <summary>One registration less; the pidfd closes with the last one.</summary>
    public void Release(WatchedProcess process)
    {
        lock (_gate)
        {
            if (--process.References > 0)
                return;
            if (_byId.Remove(process.Id))
                Epoll.epoll_ctl(_epoll, EPOLL_CTL_DEL, process.Pidfd, null);
            if (_current.TryGetValue(process.Tgid, out var current) && current == process)
                _current.Remove(process.Tgid);
            _pending.RemoveAll(p => p.Process == process);
            process.Pidfd.Dispose();
        }
    }

    /// <summary>Watches a monitor's pidfd, so that a monitor that dies loses its registrations at once.</summary>
    public void WatchMonitor(Registrations.MonitorProcess monitor)
    {
        lock (_gate)
        {
            ulong id = ++_nextId | MonitorBit;
            var ev = new epoll_event { events = EPOLLIN, data = new epoll_data_t { u64 = id } };
            if (Epoll.epoll_ctl(_epoll, EPOLL_CTL_ADD, monitor.Pidfd, &ev) != 0)
            {
                Log.Warning($"cannot watch {monitor}: {Errno.Describe(Errno.Last)}; its registrations go when a signal to it fails");
                return;
            }
            monitor.WatchId = id;
            _monitors[id] = monitor;
        }
    }

    /// <summary>Stops watching a monitor, before its pidfd is closed.</summary>
    public void UnwatchMonitor(Registrations.MonitorProcess monitor)
    {
        lock (_gate)
        {
            if (monitor.WatchId != 0 && _monitors.Remove(monitor.WatchId))
                Epoll.epoll_ctl(_epoll, EPOLL_CTL_DEL, monitor.Pidfd, null);
            monitor.WatchId = 0;
        }
    }

    /// <summary>Target processes and monitors watched now.</summary>
    public (int Targets, int Monitors) Watched
    {
        get { lock (_gate) return (_byId.Count, _monitors.Count); }
    }

    /// <summary>The watched live (or just exited) process with this pid, if any.</summary>
    public WatchedProcess? Find(int tgid)
    {
        lock (_gate)
            return _current.TryGetValue(tgid, out var process) ? process : null;
    }

    private void Run()
    {
        const int MaxEvents = 64;
        var events = stackalloc epoll_event[MaxEvents];
        while (!_stopping)
        {
            int timeout = NextTimeoutMs();
            int n = Epoll.epoll_wait(_epoll, events, MaxEvents, timeout);
            if (n < 0 && Errno.Last != Errno.EINTR)
            {
                Log.Error($"epoll_wait on pidfds failed: {Errno.Describe(Errno.Last)}; exits are reported from netlink only");
                return;
            }
            long now = Registrations.RegistrationTable.MonotonicNowNs();
            List<Registrations.MonitorProcess>? goneMonitors = null;
            lock (_gate)
            {
                for (int i = 0; i < n; i++)
                {
                    ulong data = events[i].data.u64;
                    if ((data & MonitorBit) != 0)
                    {
                        if (_monitors.Remove(data, out var monitor))
                        {
                            Epoll.epoll_ctl(_epoll, EPOLL_CTL_DEL, monitor.Pidfd, null);
                            monitor.WatchId = 0;
                            (goneMonitors ??= []).Add(monitor);
                        }
                        continue;
                    }
                    if (!_byId.TryGetValue(data, out var process))
                        continue;
                    // Readable stays readable: stop watching it, and report it after the grace period.
                    Epoll.epoll_ctl(_epoll, EPOLL_CTL_DEL, process.Pidfd, null);
                    _pending.Add((process, now + (long)GracePeriod.TotalNanoseconds));
                }
            }
            if (goneMonitors is not null)
            {
                foreach (var monitor in goneMonitors)
                    MonitorGone?.Invoke(monitor);
            }
            RaiseDue(now);
        }
    }

    private int NextTimeoutMs()
    {
        lock (_gate)
        {
            if (_pending.Count == 0)
                return 250; // also how often a stop is noticed
            long wait = _pending.Min(p => p.Due) - Registrations.RegistrationTable.MonotonicNowNs();
            return (int)Math.Clamp(wait / 1_000_000 + 1, 0, 250);
        }
    }

    private void RaiseDue(long now)
    {
        List<(WatchedProcess Process, long Due)> due;
        lock (_gate)
        {
            due = _pending.FindAll(p => p.Due <= now);
            _pending.RemoveAll(p => p.Due <= now);
        }
        foreach (var (process, dueAt) in due)
            ProcessGone?.Invoke(process, dueAt - (long)GracePeriod.TotalNanoseconds);
    }

    public void Dispose()
    {
        _stopping = true;
        if (_thread.IsAlive)
            _thread.Join();
        lock (_gate)
        {
            foreach (var process in _byId.Values)
                process.Pidfd.Dispose();
            _byId.Clear();
            _monitors.Clear();
            _current.Clear();
        }
        _epoll.Dispose();
    }
}
