using System.Collections.Concurrent;
using System.Text;
using Kmonitor.Daemon;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Kmonitor.Tests.Infrastructure;

/// <summary>
/// systemd's side of the fd store, for tests on a host without systemd as PID 1: a datagram socket
/// given to the daemon as $NOTIFY_SOCKET that keeps what FDSTORE=1 stores under its FDNAME (and
/// drops what FDSTOREREMOVE=1 names), and starts the next instance with the store as fds 3.. and
/// LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES, as systemd does on a restart (through kmfdexec).
/// </summary>
public sealed unsafe class FdStorePeer : IDisposable
{
    private readonly int _socket;
    private readonly Thread _thread;
    private readonly object _gate = new();
    private readonly List<(string Name, int Fd)> _store = [];
    private readonly BlockingCollection<string> _messages = new();
    private volatile bool _stopping;

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"kmt-fdstore-{Guid.NewGuid():N}.sock");

    public FdStorePeer()
    {
        Root.Require();
        _socket = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        var address = Kmonitor.Daemon.Handover.FdStore.SocketAddress(Path);
        fixed (byte* a = address)
        {
            if (bind(_socket, (sockaddr*)a, (socklen_t)address.Length) != 0)
                throw new InvalidOperationException($"bind {Path}: errno {errno}");
        }
        long* timeout = stackalloc long[2] { 0, 200_000 }; // struct timeval: 0.2 s, so Dispose is noticed
        setsockopt(_socket, SOL_SOCKET, SO_RCVTIMEO, timeout, (socklen_t)(2 * sizeof(long)));
        _thread = new Thread(Receive) { IsBackground = true, Name = "fdstore-peer" };
        _thread.Start();
    }

    private readonly List<string> _faults = [];

    /// <summary>What the daemon sent that systemd would take otherwise than meant (none, or the test fails).</summary>
    public List<string> Faults
    {
        get
        {
            lock (_gate)
                return [.. _faults];
        }
    }

    /// <summary>The names in the store, in the order they were stored.</summary>
    public List<string> Names
    {
        get { lock (_gate) return [.. _store.Select(s => s.Name)]; }
    }

    /// <summary>Waits for a notify message other than FDSTORE/FDSTOREREMOVE (READY=1, STOPPING=1, WATCHDOG=1).</summary>
    public string NextMessage(int timeoutMs = 60_000) =>
        _messages.TryTake(out var message, timeoutMs) ? message : throw new TimeoutException("no sd_notify message");

    /// <summary>Waits until the store holds every one of <paramref name="names"/>.</summary>
    public void WaitForStored(params string[] names)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        lock (_gate)
        {
            while (!names.All(n => _store.Any(s => s.Name == n)))
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"the store holds {string.Join(",", _store.Select(s => s.Name))}, not {string.Join(",", names)}");
                Monitor.Wait(_gate, 200);
            }
        }
    }

    private readonly List<string> _removals = [];

    /// <summary>Waits until an FDSTOREREMOVE of <paramref name="name"/> has been handled (its descriptors closed).</summary>
    public void WaitForRemoved(string name)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        lock (_gate)
        {
            while (!_removals.Contains(name))
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"no FDSTOREREMOVE of {name}");
                Monitor.Wait(_gate, 200);
            }
        }
    }

    /// <summary>The environment a daemon under this peer gets.</summary>
    public Dictionary<string, string> Environment => new() { ["NOTIFY_SOCKET"] = Path };

    /// <summary>What the next instance is started through: kmfdexec with the store as NAME=FD pairs.</summary>
    public List<string> Launcher()
    {
        var prefix = new List<string> { TestPaths.Native("kmfdexec"), System.Environment.ProcessId.ToString() };
        lock (_gate)
            prefix.AddRange(_store.Select(s => $"{s.Name}={s.Fd}"));
        prefix.Add("--");
        return prefix;
    }

    /// <summary>Replaces the stored descriptor <paramref name="name"/> with a memfd holding <paramref name="bytes"/> (a damaged state).</summary>
    public void Replace(string name, byte[] bytes)
    {
        int fd = Kmonitor.Daemon.Handover.StateMemfd.Create(bytes);
        lock (_gate)
        {
            int i = _store.FindIndex(s => s.Name == name);
            close(_store[i].Fd);
            _store[i] = (name, fd);
        }
    }

    /// <summary>The bytes of the memfd stored under <paramref name="name"/>.</summary>
    public byte[] Read(string name)
    {
        lock (_gate)
            return Kmonitor.Daemon.Handover.StateMemfd.ReadCurrent(_store.First(s => s.Name == name).Fd);
    }

    /// <summary>Empties the store, as systemd does when a service stops for good.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            foreach (var (_, fd) in _store)
                close(fd);
            _store.Clear();
        }
    }

    private void Receive()
    {
        var buffer = new byte[4096];
        int controlLength = (int)(long)CMSG_SPACE(sizeof(int) * 16);
        var control = new byte[controlLength];
        while (!_stopping)
        {
            long n;
            var fds = new List<int>();
            fixed (byte* b = buffer)
            fixed (byte* c = control)
            {
                var io = new iovec { iov_base = b, iov_len = (size_t)buffer.Length };
                var message = new msghdr { msg_iov = &io, msg_iovlen = 1, msg_control = c, msg_controllen = (socklen_t)controlLength };
                n = recvmsg(_socket, &message, MSG_CMSG_CLOEXEC);
                if (n < 0)
                    continue; // the timeout: look at _stopping
                for (var header = CMSG_FIRSTHDR(&message); header != null; header = CMSG_NXTHDR(&message, header))
                {
                    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS)
                        continue;
                    int count = (int)(((long)(uint)header->cmsg_len - (long)CMSG_LEN(0)) / sizeof(int));
                    for (int i = 0; i < count; i++)
                        fds.Add(((int*)CMSG_DATA(header))[i]);
                }
            }
            Handle(Encoding.UTF8.GetString(buffer, 0, (int)n), fds);
        }
    }

    private void Handle(string text, List<int> fds)
    {
        var fields = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string? name = fields.FirstOrDefault(f => f.StartsWith("FDNAME="))?["FDNAME=".Length..];
        lock (_gate)
        {
            if (fields.Contains("FDSTORE=1"))
            {
                // systemd stores every descriptor of the message under the name (newest first, as
                // LISTEN_FDNAMES then shows), so a stray one becomes a second "channel"; the daemon
                // means one per message.
                if (fds.Count != 1)
                    _faults.Add($"FDSTORE of '{name}' carried {fds.Count} descriptors");
                foreach (int fd in fds)
                    _store.Add((name ?? "unknown", fd));
            }
            else if (fields.Contains("FDSTOREREMOVE=1"))
            {
                _removals.Add(name ?? "unknown");
                foreach (var stored in _store.Where(s => s.Name == name).ToList())
                {
                    close(stored.Fd);
                    _store.Remove(stored);
                }
            }
            else
            {
                foreach (int fd in fds)
                    close(fd);
                _messages.Add(text);
            }
            Monitor.PulseAll(_gate);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _thread.Join();
        Clear();
        close(_socket);
        File.Delete(Path);
    }
}
