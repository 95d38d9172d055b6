using Kmonitor.Abi;
using Kmonitor.Diagnostics;
using Kmonitor.Dispatch;
using Kmonitor.Events;
using Kmonitor.Exits;
using Kmonitor.Procfs;
using Kmonitor.Records;
using Kmonitor.Registrations;
using Kmonitor.Signals;
using Kmonitor.Subscriptions;

namespace Kmonitor;

/// <summary>
/// The device's semantics, independent of how requests arrive (FUSE or CUSE) and of where events
/// come from: the parts below wired together, with nothing of its own but the wiring. The netlink
/// listener that feeds <see cref="Ring"/> is <see cref="KmonitorEngine"/>'s.
/// </summary>
/// <remarks>
/// <code>
/// request thread ──► Registrar ──► OpenFiles, RegistrationTable, Quotas
///                 └► Subscriber ─┐ a subscription to install or remove (marker)
///                       │ a target already dead (marker)
/// pidfd watcher ────────┼──► a process or a monitor gone (marker)
///                       ▼
/// netlink listener ──► Ring ──► Dispatcher ──► ExitReporter ──► Notifier ──► ISignalDelivery
///                                    ├──► SubscriptionEngine ─────┘   └──► RecordSender (a file's queue)
///                                    └───────────────────────────┘ (every other event)
/// </code>
/// Only the thread that holds the dispatcher's lock sends notifications or queues records: the
/// listener for a quick burst when nothing waits in the ring, the dispatcher thread otherwise.
/// </remarks>
public sealed class KmonitorService : IDisposable
{
    /// <summary>The ring's length when none is given (the daemon's --buffer-length default is larger).</summary>
    public const int DefaultRingCapacity = 4096;

    public ServiceOptions Options { get; }
    public Counters Counters { get; } = new();
    public RegistrationTable Table { get; }

    /// <summary>The pidfds of registered target processes and of monitors.</summary>
    public ProcessWatcher Watcher { get; } = new();

    /// <summary>Between the listener (and the markers of the threads that may not send) and the dispatcher.</summary>
    public EventRing Ring { get; }

    public OpenFiles Files { get; }

    /// <summary>Queues records on files and wakes their readers (the front end sets its poll wake-up here).</summary>
    public RecordSender Records { get; }
    public Registrar Registrar { get; }

    /// <summary>SUBSCRIBE and UNSUBSCRIBE on the request thread.</summary>
    public Subscriber Subscriber { get; }

    /// <summary>Subscriptions' membership and matching, under the dispatch lock (whichever thread holds it).</summary>
    public SubscriptionEngine Subscriptions { get; }
    public ExitReporter Exits { get; }
    public Dispatcher Dispatcher { get; }

    /// <summary>The per-uid and per-file limits (a takeover counts what it restores).</summary>
    internal Quotas Quotas { get; }

    /// <summary>What /proc says.</summary>
    internal IProcReader Proc { get; }

    private readonly Notifier _notifier;
    private readonly ScanWorker _scans = new();
    private readonly MonotonicClock _clock;

    /// <param name="proc">What /proc says (a test's made-up tasks; default the real /proc).</param>
    /// <param name="time">The clock (a test's fake one; default the system's).</param>
    /// <param name="delivery">How signals are sent (a test's recorder; default pidfd_send_signal and the relays).</param>
    public KmonitorService(ServiceOptions? options = null, int ringCapacity = DefaultRingCapacity,
        IProcReader? proc = null, TimeProvider? time = null, ISignalDelivery? delivery = null)
    {
        Options = options ?? new ServiceOptions();
        proc ??= ProcReader.Instance;
        _clock = time is null ? MonotonicClock.System : new MonotonicClock(time);
        Table = new RegistrationTable(_clock);
        Records = new RecordSender(Counters);
        Ring = new EventRing(ringCapacity);
        var quotas = Quotas = new Quotas(Options.MaxPerFile, Options.MaxPerUid);
        Proc = proc;
        OpenFiles? files = null;
        _notifier = new Notifier(delivery ?? new SignalDelivery(Options.RelayCommand), Records, proc, Counters, monitor => files!.DropMonitor(monitor), time);
        Exits = new ExitReporter(Table, quotas, Watcher, _notifier, proc, Counters);
        Files = files = new OpenFiles(Table, Watcher, Exits, Options.QueueLength);
        Registrar = new Registrar(new CallerResolver(proc), Options.Policy, quotas, Files, Table, Watcher, Exits, Ring, _scans, proc, Counters, time);
        Subscriptions = new SubscriptionEngine(proc, new NotifierSink(_notifier), Counters, () => (ulong)_clock.NowNs());
        Subscriber = new Subscriber(new CallerResolver(proc), Options.Policy, quotas, Files, Ring, _scans, _clock, Counters, time);
        Files.SubscriptionsEnded = Subscriber.End;
        Dispatcher = new Dispatcher(Ring, Table, Watcher, Exits, _notifier, Files, Subscriptions, proc, Counters, time, Records);
        // The watcher's thread may not send: what it sees goes into the ring, behind the events already there.
        Watcher.ProcessGone += (process, seenAtNs) => Ring.Post(ProcEvent.ProcessGone(process.Tgid, seenAtNs), process);
        Watcher.MonitorGone += monitor => Ring.Post(ProcEvent.MonitorGone(monitor.Tgid, _clock.NowNs()), monitor);
    }

    /// <summary>Opens a new file of the device.</summary>
    public DeviceFile Open() => Files.Open();

    /// <summary>The open file with this handle, if it is still open.</summary>
    public DeviceFile? FindFile(ulong handle) => Files.Find(handle);

    /// <summary>REGISTER, waiting for an answer that needs a scan of /proc (the device does not wait: see <see cref="Registrations.Registrar"/>).</summary>
    public int Register(DeviceFile file, int callerTid, KmonitorCmd cmd, uint? callerFsUid = null) =>
        Wait(Registrar.Register(file, callerTid, cmd, callerFsUid));

    /// <summary>DEREGISTER, waiting as <see cref="Register"/> does.</summary>
    public int Deregister(DeviceFile file, int callerTid, KmonitorCmd cmd) => Wait(Registrar.Deregister(file, callerTid, cmd));

    /// <summary>The last close of a file: everything it registered goes.</summary>
    public void Release(DeviceFile file) => Files.Close(file);

    private static int Wait(ValueTask<int> answer) => answer.IsCompleted ? answer.Result : answer.AsTask().GetAwaiter().GetResult();

    /// <summary>What the status report shows, read now.</summary>
    public ServiceStatus Status()
    {
        var (targets, monitors) = Watcher.Watched;
        return new ServiceStatus(Table.Count, Subscriptions.Count, Files.Count, targets, monitors, Counters.Snapshot(), Files.Monitors());
    }

    /// <summary>For a handover: every ioctl waiting for a /proc scan gets its answer before the state is taken.</summary>
    public void FinishScans() => _scans.Finish();

    public void Dispose()
    {
        _scans.Dispose();
        Dispatcher.Dispose();
        Watcher.Dispose();
        _notifier.Dispose();
    }
}

/// <summary>The engine's state as the status report shows it.</summary>
public sealed record ServiceStatus(
    int Registrations,
    int Subscriptions,
    int OpenFiles,
    int WatchedProcesses,
    int WatchedMonitors,
    IReadOnlyList<(string Name, long Value)> Counters,
    List<MonitorSummary> Monitors);
