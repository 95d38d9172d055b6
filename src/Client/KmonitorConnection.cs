using System.Runtime.CompilerServices;
using System.Text;
using Kmonitor.Client.Interop;

namespace Kmonitor.Client;

/// <summary>
/// One open file of the kmonitor device: registrations and subscriptions made through it, and the
/// records they queue on it. Closing it (Dispose) drops them all.
/// </summary>
/// <remarks>
/// The request methods may be called from any thread. Records are read either with
/// <see cref="TryRead"/> or with one <see cref="ReadEventsAsync"/> enumeration at a time, whose
/// waiting happens on one dedicated thread per connection, never on a thread-pool thread.
/// </remarks>
public sealed unsafe class KmonitorConnection : IDisposable, IAsyncDisposable
{
    /// <summary>The device's usual path.</summary>
    public const string DefaultPath = "/dev/kmonitor";

    /// <summary>The environment variable that names another device (as the C samples read it).</summary>
    public const string DeviceVariable = "KMONITOR_DEVICE";

    private const int BatchRecords = 64;

    private readonly DescriptorHandle _device;
    private readonly DescriptorHandle _wake;
    private readonly Lock _lock = new();
    private readonly Queue<ProcessEvent> _pending = new(); // read from the file, not yet handed out
    private readonly byte[] _buffer = new byte[BatchRecords * RecordParser.RecordSize];
    private RecordPump? _pump;
    private bool _disposed;

    private KmonitorConnection(string path, DescriptorHandle device, DescriptorHandle wake)
    {
        Path = path;
        _device = device;
        _wake = wake;
    }

    /// <summary>The device this connection opened.</summary>
    public string Path { get; }

    /// <summary>
    /// Opens the device: <paramref name="path"/>, or when it is null the path in
    /// <c>$KMONITOR_DEVICE</c>, or else <see cref="DefaultPath"/>.
    /// </summary>
    /// <param name="path">The device's path, or null for the default.</param>
    /// <exception cref="KmonitorException">ENOENT when there is no device (kmonitord is not running); EACCES when the caller may not open it (not in the kmonitor group).</exception>
    public static KmonitorConnection Open(string? path = null)
    {
        path ??= Environment.GetEnvironmentVariable(DeviceVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultPath;
        // Non-blocking: TryRead must never block, and the reader thread waits in poll(2) instead.
        var device = new DescriptorHandle(OpenDevice(path));
        if (device.IsInvalid)
            throw Errors.Open(Errors.LastErrno, path);
        var wake = new DescriptorHandle(Libc.eventfd(0, Libc.EFD_NONBLOCK | Libc.EFD_CLOEXEC));
        if (wake.IsInvalid)
        {
            int errno = Errors.LastErrno;
            device.Dispose();
            throw Errors.Call(errno, "eventfd");
        }
        return new KmonitorConnection(path, device, wake);
    }

    /// <summary>
    /// REGISTER with signal 0: queues a record on this connection for each of <paramref name="events"/>
    /// of the task <paramref name="pid"/> (a process also reports its threads' events). A second call
    /// for the same pid adds bits. The registration ends with the task.
    /// </summary>
    /// <param name="pid">The process or thread to watch.</param>
    /// <param name="events">The events (not <see cref="ProcessEvents.Existing"/>).</param>
    /// <exception cref="KmonitorException">ESRCH: no such process; EPERM: another user's process; ENOSPC: a limit; EINVAL: a bad argument.</exception>
    public void Register(int pid, ProcessEvents events)
    {
        const string call = "register";
        if (pid <= 0)
            throw Errors.Invalid(call, $"pid {pid} (must be > 0)");
        CheckEvents(call, events, existingAllowed: false);
        Command(KmonitorAbi.KMONITOR_IOW_REGISTER, call, pid, events, "events");
    }

    /// <summary>DEREGISTER: clears <paramref name="events"/> of the registration on <paramref name="pid"/>, and removes it when none is left.</summary>
    /// <param name="pid">The pid given to <see cref="Register"/>.</param>
    /// <param name="events">The events to stop reporting.</param>
    /// <exception cref="KmonitorException">EINVAL when this connection has no registration on the pid (or its task has exited).</exception>
    public void Deregister(int pid, ProcessEvents events)
    {
        const string call = "deregister";
        CheckEvents(call, events, existingAllowed: false);
        Command(KmonitorAbi.KMONITOR_IOW_DEREGISTER, call, pid, events, $"pid {pid}: no registration on this connection (or the process has exited)");
    }

    /// <summary>
    /// SUBSCRIBE to a subtree: <paramref name="pid"/> and every process descended from it, from birth to exit,
    /// whatever reparenting happens.
    /// </summary>
    /// <param name="pid">The root of the tree.</param>
    /// <param name="events">The events; with <see cref="ProcessEvents.Existing"/>, the root and its living descendants are reported first.</param>
    /// <returns>The subscription's id: records carry it in <see cref="ProcessEvent.Watch"/>; <see cref="Unsubscribe"/> takes it.</returns>
    /// <exception cref="KmonitorException">ESRCH: the root is not running; EPERM: another user's process; ENOSPC: a limit.</exception>
    public uint SubscribeTree(int pid, ProcessEvents events)
    {
        const string call = "subscribe tree";
        if (pid <= 0)
            throw Errors.Invalid(call, $"pid {pid} (must be > 0)");
        CheckEvents(call, events, existingAllowed: true);
        var request = new kmonitor_subscription { scope = KmonitorAbi.KMONITOR_SCOPE_TREE, type = (uint)events, pid = pid };
        return Subscribe(ref request, call, pid, "events");
    }

    /// <summary>SUBSCRIBE to every process whose name (comm, as <c>ps -o comm</c> shows it) equals <paramref name="name"/>.</summary>
    /// <param name="name">The name: 1 to 15 bytes, as the kernel keeps names.</param>
    /// <param name="events">The events; with <see cref="ProcessEvents.Existing"/>, the running matches are reported first.</param>
    /// <returns>The subscription's id.</returns>
    /// <exception cref="KmonitorException">EINVAL: a name that no process can have; ENOSPC: a limit.</exception>
    public uint SubscribeName(string name, ProcessEvents events)
    {
        const string call = "subscribe name";
        ArgumentNullException.ThrowIfNull(name);
        int length = Encoding.UTF8.GetByteCount(name);
        if (length is 0 or > 15 || name.Contains('\0'))
            throw Errors.Invalid(call, $"name '{name}' (a process name is 1 to 15 bytes)");
        CheckEvents(call, events, existingAllowed: true);
        var request = new kmonitor_subscription { scope = KmonitorAbi.KMONITOR_SCOPE_NAME, type = (uint)events };
        SetPattern(ref request, name);
        return Subscribe(ref request, call, 0, $"name '{name}'");
    }

    /// <summary>
    /// SUBSCRIBE to every process whose name matches the POSIX extended regular expression
    /// <paramref name="pattern"/> (unanchored: use <c>^...$</c> for the whole name), or whose command
    /// line (arguments joined by single spaces, like <c>pgrep -f</c>) matches it.
    /// </summary>
    /// <param name="pattern">A POSIX extended regular expression, at most 231 bytes.</param>
    /// <param name="events">The events; with <see cref="ProcessEvents.Existing"/>, the running matches are reported first.</param>
    /// <param name="matchCommandLine">Match the command line instead of the name.</param>
    /// <returns>The subscription's id.</returns>
    /// <exception cref="KmonitorException">EINVAL: a pattern that does not compile or is too long; ENOSPC: a limit.</exception>
    public uint SubscribeRegex(string pattern, ProcessEvents events, bool matchCommandLine = false)
    {
        const string call = "subscribe regex";
        ArgumentNullException.ThrowIfNull(pattern);
        if (Encoding.UTF8.GetByteCount(pattern) > 231 || pattern.Contains('\0'))
            throw Errors.Invalid(call, "pattern (at most 231 bytes, no NUL)");
        CheckEvents(call, events, existingAllowed: true);
        var request = new kmonitor_subscription
        {
            scope = KmonitorAbi.KMONITOR_SCOPE_REGEX,
            type = (uint)events,
            flags = matchCommandLine ? KmonitorAbi.KMONITOR_MATCH_CMDLINE : 0,
        };
        SetPattern(ref request, pattern);
        return Subscribe(ref request, call, 0, $"pattern '{pattern}' (not a POSIX extended regular expression)");
    }

    /// <summary>SUBSCRIBE to every process the caller may watch (all of them for root; its own user's otherwise).</summary>
    /// <param name="events">The events; with <see cref="ProcessEvents.Existing"/>, the running processes are reported first.</param>
    /// <returns>The subscription's id.</returns>
    /// <exception cref="KmonitorException">ENOSPC: a limit.</exception>
    public uint SubscribeAll(ProcessEvents events)
    {
        const string call = "subscribe all";
        CheckEvents(call, events, existingAllowed: true);
        var request = new kmonitor_subscription { scope = KmonitorAbi.KMONITOR_SCOPE_ALL, type = (uint)events };
        return Subscribe(ref request, call, 0, "events");
    }

    /// <summary>UNSUBSCRIBE: ends the subscription <paramref name="id"/>. Its records already queued stay queued.</summary>
    /// <param name="id">What a Subscribe method returned.</param>
    /// <exception cref="KmonitorException">EINVAL when this connection has no subscription <paramref name="id"/>.</exception>
    public void Unsubscribe(uint id)
    {
        uint argument = id;
        if (Ioctl(KmonitorAbi.KMONITOR_IOW_UNSUBSCRIBE, &argument) != 0)
            throw Errors.Call(Errors.LastErrno, "unsubscribe", invalid: $"id {id} (no such subscription on this connection)");
    }

    /// <summary>
    /// Takes the next queued event, without blocking: false when none is queued. Not while a
    /// <see cref="ReadEventsAsync"/> enumeration is running.
    /// </summary>
    /// <param name="e">The event, when the result is true.</param>
    /// <returns>Whether an event was queued.</returns>
    /// <exception cref="KmonitorException">ENOTCONN or ENODEV: kmonitord has stopped.</exception>
    /// <exception cref="InvalidOperationException">A <see cref="ReadEventsAsync"/> enumeration is reading this connection.</exception>
    public bool TryRead(out ProcessEvent e)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_pump is not null)
                throw new InvalidOperationException("ReadEventsAsync is reading this connection");
            if (_pending.Count == 0)
            {
                var batch = new List<ProcessEvent>(BatchRecords);
                ReadBatch(_device, _buffer, batch);
                foreach (var record in batch)
                    _pending.Enqueue(record);
            }
            return _pending.TryDequeue(out e);
        }
    }

    /// <summary>
    /// The events as they are queued, waiting when none is. The enumeration ends, without an
    /// exception, when <paramref name="cancellationToken"/> is cancelled or the connection is
    /// disposed; events read but not handed out stay for the next <see cref="TryRead"/> or
    /// enumeration. One enumeration at a time.
    /// </summary>
    /// <param name="cancellationToken">Ends the enumeration.</param>
    /// <returns>The events, in the order the daemon queued them.</returns>
    /// <exception cref="KmonitorException">(while enumerating) ENOTCONN or ENODEV: kmonitord has stopped.</exception>
    /// <exception cref="InvalidOperationException">(while enumerating) another enumeration is running.</exception>
    public async IAsyncEnumerable<ProcessEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var pump = StartPump();
        try
        {
            while (TakePending(out var earlier))
                yield return earlier;
            while (true)
            {
                bool more;
                try
                {
                    more = await pump.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    more = false;
                }
                if (!more)
                    yield break;
                while (pump.Reader.TryRead(out var e))
                    yield return e;
            }
        }
        finally
        {
            StopPump(pump, keepUnread: true);
        }
    }

    /// <summary>The thread of the running enumeration, for tests that check it ends.</summary>
    internal Thread? ReaderThread
    {
        get
        {
            lock (_lock)
                return _pump?.Thread;
        }
    }

    /// <summary>Closes the device: every registration and subscription of this connection ends. Ends a running enumeration.</summary>
    public void Dispose()
    {
        RecordPump? pump;
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            pump = _pump;
        }
        if (pump is not null)
            StopPump(pump, keepUnread: false);
        _device.Dispose();
        _wake.Dispose();
    }

    /// <summary>Same as <see cref="Dispose"/>.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Reads one batch of records (non-blocking) into <paramref name="into"/>; none when EAGAIN.</summary>
    internal static void ReadBatch(DescriptorHandle device, byte[] buffer, ICollection<ProcessEvent> into)
    {
        nint n;
        fixed (byte* p = buffer)
        {
            while ((n = Libc.read(device, p, (nuint)buffer.Length)) < 0 && Errors.LastErrno == Libc.EINTR)
            {
            }
        }
        if (n < 0)
        {
            int errno = Errors.LastErrno;
            if (errno == Libc.EAGAIN)
                return;
            throw Errors.Call(errno, "read");
        }
        if (n == 0)
            throw Errors.Call(Libc.ENOTCONN, "read"); // the device never ends a file; nothing more will come
        RecordParser.Parse(buffer.AsSpan(0, (int)n), into);
    }

    private RecordPump StartPump()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_pump is not null)
                throw new InvalidOperationException("another ReadEventsAsync enumeration is reading this connection");
            return _pump = new RecordPump(_device, _wake);
        }
    }

    private void StopPump(RecordPump pump, bool keepUnread)
    {
        var unread = pump.Stop(collect: keepUnread);
        lock (_lock)
        {
            if (_pump != pump)
                return;
            _pump = null;
            if (keepUnread && !_disposed)
            {
                // What the reader thread had read but nobody took goes before what is still in the file.
                var later = _pending.ToList();
                _pending.Clear();
                foreach (var e in unread.Concat(later))
                    _pending.Enqueue(e);
            }
        }
    }

    private bool TakePending(out ProcessEvent e)
    {
        lock (_lock)
            return _pending.TryDequeue(out e);
    }

    private void Command(uint request, string call, int pid, ProcessEvents events, string invalid)
    {
        var cmd = new kmonitor_cmd { pid = pid, type = (int)events, signal = 0 };
        if (Ioctl(request, &cmd) != 0)
            throw Errors.Call(Errors.LastErrno, call, pid, invalid);
    }

    private uint Subscribe(ref kmonitor_subscription request, string call, int pid, string invalid)
    {
        fixed (kmonitor_subscription* p = &request)
        {
            if (Ioctl(KmonitorAbi.KMONITOR_IOWR_SUBSCRIBE, p) != 0)
                throw Errors.Call(Errors.LastErrno, call, pid, invalid);
        }
        return request.id;
    }

    private static void CheckEvents(string call, ProcessEvents events, bool existingAllowed)
    {
        var allowed = existingAllowed ? ProcessEvents.All | ProcessEvents.Existing : ProcessEvents.All;
        if ((events & ProcessEvents.All) == 0 && !(existingAllowed && events == ProcessEvents.Existing))
            throw Errors.Invalid(call, "events (none asked for)");
        if ((events & ~allowed) != 0)
            throw Errors.Invalid(call, existingAllowed
                ? $"events 0x{(uint)events:X} (unknown bits)"
                : $"events 0x{(uint)events:X} (Existing applies to subscriptions only)");
    }

    private static void SetPattern(ref kmonitor_subscription request, string text)
    {
        Span<byte> bytes = request.pattern;
        bytes.Clear();
        Encoding.UTF8.GetBytes(text, bytes[..^1]);
    }

    // A call that a signal interrupts fails with EINTR (a FUSE reply cannot ask for a restart): retried.
    private int Ioctl(uint request, void* argument)
    {
        int result;
        while ((result = Libc.ioctl(_device, request, argument)) < 0 && Errors.LastErrno == Libc.EINTR)
        {
        }
        return result;
    }

    private static int OpenDevice(string path)
    {
        int fd;
        while ((fd = Libc.open(path, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC)) < 0 && Errors.LastErrno == Libc.EINTR)
        {
        }
        return fd;
    }
}
