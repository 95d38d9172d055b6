using Kmonitor.Interop;

namespace Kmonitor.Fuse.Channel;

/// <summary>
/// An open /dev/fuse or /dev/cuse: requests are read from it and replies written to it, one whole
/// message per call. The descriptor is non-blocking: a read takes the next request at once when
/// one is queued (under load, one syscall per request) and only an empty queue leads to poll(2),
/// where a stop is signalled through an eventfd beside it (a read blocked in the kernel is not
/// woken by closing the descriptor).
/// </summary>
public sealed unsafe class FuseChannel : IDisposable
{
    private readonly FileDescriptorHandle _device;
    private readonly FileDescriptorHandle _stop;
    private volatile bool _stopping;

    public string Path { get; }

    private FuseChannel(string path, FileDescriptorHandle device, FileDescriptorHandle stop)
    {
        Path = path;
        _device = device;
        _stop = stop;
    }

    public static FuseChannel Open(string path)
    {
        int fd = Libc.open(path, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            throw KmonitorException.FromErrno($"open {path}", Errno.Last);
        int stop = Libc.eventfd(0, Libc.EFD_CLOEXEC);
        if (stop < 0)
        {
            Libc.close(fd);
            throw KmonitorException.FromErrno("eventfd", Errno.Last);
        }
        return new FuseChannel(path, new FileDescriptorHandle(fd), new FileDescriptorHandle(stop));
    }

    /// <summary>The descriptor, for the fd= option of the FUSE mount.</summary>
    public int Fd => _device.Fd;

    public bool IsStopping => _stopping;

    /// <summary>
    /// Reads one request. Returns its length, 0 when <see cref="Stop"/> was called, or -errno:
    /// ENODEV means the kernel has ended the connection (unmounted or aborted).
    /// </summary>
    public int Read(Span<byte> buffer)
    {
        while (true)
        {
            if (_stopping)
                return 0;
            nint n;
            fixed (byte* p = buffer)
                n = Libc.read(_device.Fd, p, (nuint)buffer.Length);
            if (n >= 0)
                return (int)n;
            int errno = Errno.Last;
            // ENOENT: the request was interrupted before we read it.
            if (errno is Errno.ENOENT or Errno.EINTR)
                continue;
            if (errno != Errno.EAGAIN)
                return -errno;
            int polled = WaitForRequest();
            if (polled != 0)
                return polled;
        }
    }

    /// <summary>Sleeps until a request is queued (0), a stop (0 with _stopping set) or an error (-errno).</summary>
    private int WaitForRequest()
    {
        var fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = _device.Fd, Events = Libc.POLLIN };
        fds[1] = new PollFd { Fd = _stop.Fd, Events = Libc.POLLIN };
        if (Libc.poll(fds, 2, -1) < 0)
            return Errno.Last == Errno.EINTR ? 0 : -Errno.Last;
        if (fds[1].Revents == 0 && (fds[0].Revents & (Libc.POLLERR | Libc.POLLHUP)) != 0 && (fds[0].Revents & Libc.POLLIN) == 0)
            return -Errno.ENODEV;
        return 0;
    }

    /// <summary>Writes one reply; returns 0 or the errno (ENOENT: the request was interrupted meanwhile).</summary>
    public int Write(ReadOnlySpan<byte> reply)
    {
        fixed (byte* p = reply)
        {
            nint n = Libc.write(_device.Fd, p, (nuint)reply.Length);
            return n == reply.Length ? 0 : n < 0 ? Errno.Last : Errno.EIO;
        }
    }

    /// <summary>Makes <see cref="Read"/> return 0; safe from any thread, including a signal handler's.</summary>
    public void Stop()
    {
        _stopping = true;
        ulong one = 1;
        Libc.write(_stop.Fd, &one, sizeof(ulong));
    }

    /// <summary>Closing the device aborts the connection: callers blocked on the device get an error.</summary>
    public void Dispose()
    {
        _device.Dispose();
        _stop.Dispose();
    }
}
