using Kmonitor.Interop;
using static Tmds.Linux.LibC;

namespace Kmonitor.Daemon.Handover;

/// <summary>The state's home in systemd's store: a memfd, which holds bytes without a file system.</summary>
public static unsafe class StateMemfd
{
    /// <summary>A new memfd holding <paramref name="bytes"/>; the caller owns the descriptor.</summary>
    public static int Create(byte[] bytes)
    {
        int fd;
        fixed (byte* name = "kmonitord-state\0"u8)
            fd = memfd_create(name, MFD_CLOEXEC);
        if (fd < 0)
            throw KmonitorException.FromErrno("memfd_create", errno);
        fixed (byte* p = bytes)
        {
            long written = 0;
            while (written < bytes.Length)
            {
                long n = pwrite(fd, p + written, (Tmds.Linux.size_t)(int)(bytes.Length - written), written);
                if (n <= 0)
                {
                    int error = errno;
                    close(fd);
                    throw KmonitorException.FromErrno("writing the state", error);
                }
                written += n;
            }
        }
        return fd;
    }

    /// <summary>Everything in the memfd (or any regular file) <paramref name="fd"/>, from its start.</summary>
    public static byte[] ReadAll(int fd)
    {
        long size = lseek(fd, 0, SEEK_END);
        if (size < 0 || size > 1L << 30)
            throw new FormatException($"state of {size} bytes");
        var bytes = new byte[size];
        fixed (byte* p = bytes)
        {
            long read = 0;
            while (read < size)
            {
                long n = pread(fd, p + read, (Tmds.Linux.size_t)(int)(size - read), read);
                if (n <= 0)
                    throw new FormatException($"reading the state: {(n < 0 ? Errno.Describe(errno) : "cut short")}");
                read += n;
            }
        }
        return bytes;
    }
}
