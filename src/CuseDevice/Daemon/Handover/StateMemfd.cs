using System.Buffers.Binary;
using Kmonitor.Interop;
using static Tmds.Linux.LibC;

namespace Kmonitor.Daemon.Handover;

/// <summary>
/// The state's home in systemd's store: a memfd, which holds bytes without a file system. A daemon
/// may be killed in the middle of rewriting it, so a new state never overwrites the current one: it
/// goes into the other of two places, and only then does the 16-byte header at offset 0 (where the
/// current state starts, and its length) point at it. That header is one small pwrite, which a kill
/// cannot cut in two; whatever instant the kill comes, the successor reads a whole state.
/// </summary>
public static unsafe class StateMemfd
{
    public const int HeaderBytes = 16;
    private const int Page = 4096;

    /// <summary>A new memfd holding <paramref name="bytes"/>; the caller owns the descriptor.</summary>
    public static int Create(byte[] bytes)
    {
        int fd;
        fixed (byte* name = "kmonitord-state\0"u8)
            fd = memfd_create(name, MFD_CLOEXEC);
        if (fd < 0)
            throw KmonitorException.FromErrno("memfd_create", errno);
        if ((WriteAt(fd, bytes, HeaderBytes) ?? WriteHeader(fd, HeaderBytes, bytes.Length)) is int error)
        {
            close(fd);
            throw KmonitorException.FromErrno("writing the state", error);
        }
        return fd;
    }

    /// <summary>
    /// Makes <paramref name="bytes"/> the current state without touching the current one: it is
    /// written first at the low place (right after the header) when it fits below the current
    /// state, else after the current state's end; then the header is switched to it. Returns 0, or
    /// the errno of a failed write (the current state is then still whole and current).
    /// </summary>
    public static int Replace(int fd, byte[] bytes)
    {
        var (offset, length) = ReadHeader(fd);
        long target = offset > HeaderBytes && HeaderBytes + bytes.Length <= offset
            ? HeaderBytes
            : AlignUp(offset + length);
        return WriteAt(fd, bytes, target) ?? WriteHeader(fd, target, bytes.Length) ?? 0;
    }

    /// <summary>The current state of the memfd <paramref name="fd"/>.</summary>
    public static byte[] ReadCurrent(int fd)
    {
        var (offset, length) = ReadHeader(fd);
        long size = lseek(fd, 0, SEEK_END);
        if (offset < HeaderBytes || length < 0 || length > 1L << 30 || offset + length > size)
            throw new FormatException($"state header says {length} bytes at {offset} in a file of {size}");
        var bytes = new byte[length];
        fixed (byte* p = bytes)
        {
            long read = 0;
            while (read < length)
            {
                long n = pread(fd, p + read, (Tmds.Linux.size_t)(int)(length - read), offset + read);
                if (n <= 0)
                    throw new FormatException($"reading the state: {(n < 0 ? Errno.Describe(errno) : "cut short")}");
                read += n;
            }
        }
        return bytes;
    }

    private static long AlignUp(long position) => (position + Page - 1) / Page * Page;

    private static (long Offset, long Length) ReadHeader(int fd)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        fixed (byte* p = header)
        {
            if (pread(fd, p, HeaderBytes, 0) != HeaderBytes)
                throw new FormatException("the state has no header");
        }
        return (BinaryPrimitives.ReadInt64LittleEndian(header), BinaryPrimitives.ReadInt64LittleEndian(header[8..]));
    }

    private static int? WriteHeader(int fd, long offset, long length)
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        BinaryPrimitives.WriteInt64LittleEndian(header, offset);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], length);
        fixed (byte* p = header)
            return pwrite(fd, p, HeaderBytes, 0) == HeaderBytes ? null : errno;
    }

    private static int? WriteAt(int fd, byte[] bytes, long position)
    {
        fixed (byte* p = bytes)
        {
            long written = 0;
            while (written < bytes.Length)
            {
                long n = pwrite(fd, p + written, (Tmds.Linux.size_t)(int)(bytes.Length - written), position + written);
                if (n <= 0)
                    return n < 0 ? errno : Errno.EIO;
                written += n;
            }
        }
        return null;
    }
}
