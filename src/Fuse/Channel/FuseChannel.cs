using System.Text;
using Kmonitor.Fuse.Interop;
using Tmds.Linux;

namespace Kmonitor.Fuse.Channel;

/// <summary>
/// An open /dev/fuse or /dev/cuse: requests are read from it and replies written to it, one whole
/// message per call. The descriptor is non-blocking: a read takes the next request at once when
/// one is queued (under load, one syscall per request) and only an empty queue leads to poll(2),
/// where a stop is signalled through an eventfd beside it (a read blocked in the kernel is not
/// woken by closing the descriptor).
/// </summary>
public sealed unsafe class FuseChannel : IFuseChannel, IDisposable
{
    private readonly Descriptor _device;
    private readonly Descriptor _stop;
    private volatile bool _stopping;

    public string Path { get; }

    private FuseChannel(string path, Descriptor device, Descriptor stop)
    {
        Path = path;
        _device = device;
        _stop = stop;
    }

    /// <exception cref="FuseException">The device or the eventfd cannot be opened.</exception>
    public static FuseChannel Open(string path) => WithStopEvent(path, OpenDevice(path));

    /// <summary>
    /// A connection the previous instance opened and initialised (passed by systemd's fd store): the
    /// kernel kept the device, and queued the requests made meanwhile. Takes ownership of <paramref name="fd"/>.
    /// </summary>
    public static FuseChannel Adopt(string path, int fd)
    {
        int flags = LibC.fcntl(fd, LibC.F_GETFL);
        LibC.fcntl(fd, LibC.F_SETFL, flags | LibC.O_NONBLOCK);
        LibC.fcntl(fd, LibC.F_SETFD, LibC.FD_CLOEXEC);
        return WithStopEvent(path, new Descriptor(fd));
    }

    /// <summary>The channel over <paramref name="device"/>, with the eventfd a stop is signalled through; closes the device if there is none.</summary>
    private static FuseChannel WithStopEvent(string path, Descriptor device)
    {
        int stop = LibC.eventfd(0, LibC.EFD_CLOEXEC);
        if (stop < 0)
        {
            int errno = LibC.errno;
            device.Dispose();
            throw FuseException.FromErrno("eventfd", errno);
        }
        return new FuseChannel(path, device, new Descriptor(stop));
    }

    /// <summary>
    /// A second descriptor of the same connection, for systemd's fd store: the connection lives on
    /// (and the device with it) as long as any descriptor of it is open. The caller owns it.
    /// </summary>
    public int Duplicate()
    {
        using var device = _device.Hold();
        return LibC.fcntl(device.Fd, LibC.F_DUPFD_CLOEXEC, 3);
    }

    private static Descriptor OpenDevice(string path)
    {
        byte[] name = Encoding.UTF8.GetBytes(path + "\0");
        int fd;
        fixed (byte* p = name)
            fd = LibC.open(p, LibC.O_RDWR | LibC.O_NONBLOCK | LibC.O_CLOEXEC, 0);
        if (fd < 0)
            throw FuseException.FromErrno($"open {path}", LibC.errno);
        return new Descriptor(fd);
    }

    /// <summary>The descriptor's number, for the fd= option of a FUSE mount (which the kernel resolves at mount(2)).</summary>
    public int Fd
    {
        get
        {
            using var device = _device.Hold();
            return device.Fd;
        }
    }

    public bool IsStopping => _stopping;

    public int Read(Span<byte> buffer)
    {
        while (true)
        {
            if (_stopping)
                return 0;
            long n;
            using (var device = _device.Hold())
            {
                fixed (byte* p = buffer)
                    n = LibC.read(device.Fd, p, buffer.Length);
            }
            if (n >= 0)
                return (int)n;
            int errno = LibC.errno;
            // ENOENT: the request was interrupted before we read it.
            if (errno == LibC.ENOENT || errno == LibC.EINTR)
                continue;
            if (errno != LibC.EAGAIN)
                return -errno;
            int polled = WaitForRequest();
            if (polled != 0)
                return polled;
        }
    }

    /// <summary>Sleeps until a request is queued (0), a stop (0 with _stopping set) or an error (-errno).</summary>
    private int WaitForRequest()
    {
        using var device = _device.Hold();
        using var stop = _stop.Hold();
        var fds = stackalloc pollfd[2];
        fds[0] = new pollfd { fd = device.Fd, events = LibC.POLLIN };
        fds[1] = new pollfd { fd = stop.Fd, events = LibC.POLLIN };
        if (Poll.poll(fds, 2, -1) < 0)
        {
            int errno = LibC.errno;
            return errno == LibC.EINTR ? 0 : -errno;
        }
        if (fds[1].revents == 0 && (fds[0].revents & (LibC.POLLERR | LibC.POLLHUP)) != 0 && (fds[0].revents & LibC.POLLIN) == 0)
            return -LibC.ENODEV;
        return 0;
    }

    public int Write(ReadOnlySpan<byte> reply)
    {
        using var device = _device.Hold();
        fixed (byte* p = reply)
        {
            long n = LibC.write(device.Fd, p, reply.Length);
            return n == reply.Length ? 0 : n < 0 ? LibC.errno : LibC.EIO;
        }
    }

    /// <summary>Makes <see cref="Read"/> return 0; safe from any thread, and after <see cref="Dispose"/> (then it does nothing).</summary>
    public void Stop()
    {
        _stopping = true;
        try
        {
            using var stop = _stop.Hold();
            ulong one = 1;
            LibC.write(stop.Fd, &one, sizeof(ulong));
        }
        catch (ObjectDisposedException)
        {
            // Already closed: the session has ended, there is nothing left to wake.
        }
    }

    /// <summary>Closing the device aborts the connection: callers blocked on the device get an error.</summary>
    public void Dispose()
    {
        _device.Dispose();
        _stop.Dispose();
    }
}
