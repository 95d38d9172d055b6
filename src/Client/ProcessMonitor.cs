using Kmonitor.Client.Interop;

namespace Kmonitor.Client;

/// <summary>
/// Callbacks on the exec and the exit of processes, all of them or those of one name, with the
/// running ones reported first: the shape of DataDog's process monitor, on one connection to the
/// device (no netlink code, no CAP_NET_ADMIN).
/// </summary>
/// <example>
/// <code>
/// using var monitor = new ProcessMonitor();
/// using var started = monitor.SubscribeExec(e => Console.WriteLine($"running {e.Pid}"), name: "nginx");
/// using var stopped = monitor.SubscribeExit(e => Console.WriteLine($"{e.Pid} {e.DescribeStatus()}"), name: "nginx");
/// monitor.Initialize(); // the running nginx processes first, then every start and stop
/// </code>
/// </example>
/// <remarks>
/// Each callback is a subscription of its own on the daemon (NAME for a name, ALL otherwise), so a
/// process is reported once per callback that matches it. Callbacks run one at a time, in the order
/// the daemon queued the events: during <see cref="Initialize"/> on its caller's thread, afterwards
/// on the monitor's own thread ("kmonitor-callbacks"), never on a thread-pool thread.
/// </remarks>
public sealed class ProcessMonitor : IDisposable
{
    private readonly KmonitorConnection _connection;
    private readonly Lock _lock = new();
    private readonly List<Callback> _waiting = [];                 // subscribed before Initialize
    private readonly Dictionary<uint, Callback> _byWatch = [];    // installed on the daemon, by id
    private readonly CancellationTokenSource _stop = new();
    private Thread? _delivery;
    private bool _initialized;
    private bool _disposed;

    /// <summary>Opens the device (see <see cref="KmonitorConnection.Open"/>); nothing is reported before <see cref="Initialize"/>.</summary>
    /// <param name="path">The device, or null for <c>$KMONITOR_DEVICE</c> or <c>/dev/kmonitor</c>.</param>
    /// <exception cref="KmonitorException">The device cannot be opened (the message says why).</exception>
    public ProcessMonitor(string? path = null) => _connection = KmonitorConnection.Open(path);

    /// <summary>
    /// Raised when a callback throws (delivery goes on) or the connection fails (delivery stops: the
    /// daemon has stopped). Without a handler, a callback's exception is not caught: it is unhandled
    /// on the monitor's thread (and ends the process, as any unhandled exception does).
    /// </summary>
    public event Action<Exception>? Error;

    /// <summary>Raised with a count when the daemon dropped that many events because they were not taken fast enough.</summary>
    public event Action<int>? EventsLost;

    /// <summary>
    /// Calls <paramref name="callback"/> for each process of that name that execs (or of any name),
    /// and, at <see cref="Initialize"/> (or at once when it already ran), for each one already running
    /// (an event of kind <see cref="ProcessEventKind.Existing"/>).
    /// </summary>
    /// <param name="callback">Called with each event.</param>
    /// <param name="name">The process name (comm, 1 to 15 bytes), or null for every process the caller may watch.</param>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable SubscribeExec(Action<ProcessEvent> callback, string? name = null) =>
        Add(new Callback(callback, name, ProcessEvents.ProcessExec | ProcessEvents.Existing));

    /// <summary>
    /// Calls <paramref name="callback"/> for each process of that name (the name it had at its last exec)
    /// that exits, or of any name; <see cref="ProcessEvent.DescribeStatus"/> says how it ended.
    /// </summary>
    /// <param name="callback">Called with each <see cref="ProcessEventKind.ProcessExit"/> event.</param>
    /// <param name="name">The process name (comm, 1 to 15 bytes), or null for every process the caller may watch.</param>
    /// <returns>Dispose it to unsubscribe.</returns>
    public IDisposable SubscribeExit(Action<ProcessEvent> callback, string? name = null) =>
        Add(new Callback(callback, name, ProcessEvents.ProcessExit));

    /// <summary>
    /// Installs the subscriptions made so far, calls the exec callbacks for the matching processes
    /// already running (on this thread, before returning), then starts delivering events as they
    /// come. A second call does nothing.
    /// </summary>
    /// <exception cref="KmonitorException">The daemon refused a subscription (the message says why).</exception>
    public void Initialize()
    {
        List<Callback> waiting;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_initialized)
                return;
            _initialized = true;
            waiting = [.. _waiting];
            _waiting.Clear();
        }
        foreach (var callback in waiting)
            Install(callback);
        // The daemon queues a subscription's EXISTING records before SUBSCRIBE returns: all here now.
        while (!Volatile.Read(ref _disposed) && _connection.TryRead(out var e))
            Deliver(e);
        _delivery = new Thread(DeliverAll) { IsBackground = true, Name = "kmonitor-callbacks" };
        _delivery.Start();
    }

    /// <summary>Stops delivery and closes the device (every subscription ends).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        _stop.Cancel();
        // From inside a callback the delivery thread is this very call's caller: do not wait for it.
        if (_delivery is not null && Thread.CurrentThread != _delivery)
            _delivery.Join();
        _connection.Dispose();
        _stop.Dispose();
    }

    private IDisposable Add(Callback callback)
    {
        ArgumentNullException.ThrowIfNull(callback.Action);
        bool install;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            install = _initialized;
            if (!install)
                _waiting.Add(callback);
        }
        if (install)
            Install(callback);
        return new Unsubscriber(this, callback);
    }

    private void Install(Callback callback)
    {
        // Under the lock: once delivery runs, the subscription's first records (EXISTING) can be read
        // before SUBSCRIBE's id is known here, and Deliver must wait for it rather than drop them.
        lock (_lock)
        {
            uint id = callback.Name is null
                ? _connection.SubscribeAll(callback.Events)
                : _connection.SubscribeName(callback.Name, callback.Events);
            callback.Id = id;
            _byWatch[id] = callback;
        }
    }

    private void Remove(Callback callback)
    {
        uint id;
        lock (_lock)
        {
            if (_waiting.Remove(callback) || callback.Id == 0 || !_byWatch.Remove(callback.Id))
                return;
            id = callback.Id;
            if (_disposed)
                return;
        }
        try
        {
            _connection.Unsubscribe(id);
        }
        catch (ObjectDisposedException)
        {
            // Disposed meanwhile: closing the device ended the subscription already.
        }
        catch (KmonitorException ex) when (ex.Errno is Libc.ENOTCONN or Libc.ENODEV)
        {
            // The daemon has stopped, and every subscription with it; Error has said so.
        }
    }

    // The monitor's own thread: blocking it on the enumeration's next event costs no pool thread.
    private void DeliverAll()
    {
        var events = _connection.ReadEventsAsync(_stop.Token).GetAsyncEnumerator();
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = events.MoveNextAsync().AsTask().GetAwaiter().GetResult();
                }
                catch (KmonitorException ex)
                {
                    Report(ex); // the daemon has stopped: nothing more will come
                    return;
                }
                if (!more)
                    return; // disposed
                Deliver(events.Current);
            }
        }
        finally
        {
            events.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private void Deliver(ProcessEvent e)
    {
        if (e.Kind == ProcessEventKind.Lost)
        {
            EventsLost?.Invoke(e.LostCount);
            return;
        }
        Callback? callback;
        lock (_lock)
            _byWatch.TryGetValue(e.Watch, out callback); // gone: unsubscribed while its records were queued
        if (callback is null)
            return;
        try
        {
            callback.Action(e);
        }
        catch (Exception ex) when (Error is not null)
        {
            Report(ex);
        }
    }

    private void Report(Exception ex) => Error?.Invoke(ex);

    private sealed class Callback(Action<ProcessEvent> action, string? name, ProcessEvents events)
    {
        public Action<ProcessEvent> Action { get; } = action;
        public string? Name { get; } = name;
        public ProcessEvents Events { get; } = events;
        public uint Id { get; set; }
    }

    private sealed class Unsubscriber(ProcessMonitor owner, Callback callback) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                owner.Remove(callback);
        }
    }
}
