using System.Text;
using Kmonitor.Interop;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Kmonitor.Procfs;

/// <summary>
/// Reads small /proc files with open, pread and close on a path built on the stack. Every REGISTER
/// reads the target's status and every DEREGISTER a namespace link, so this is on the path of every
/// ioctl: no FileStream, no SafeFileHandle, no string (File.OpenHandle adds an fstat, a flock and an
/// allocation to each read), and no allocation at all.
/// </summary>
public static unsafe class ProcFile
{
    private const int MaxPath = 128;

    /// <summary>Reads up to buffer.Length bytes of /proc/PID/NAME; -1 when it does not exist or cannot be read.</summary>
    public static int Read(int pid, ReadOnlySpan<byte> name, Span<byte> buffer)
    {
        byte* path = stackalloc byte[MaxPath];
        return TaskPath(pid, name, new Span<byte>(path, MaxPath)) ? ReadAt(path, buffer) : -1;
    }

    /// <summary>Reads up to buffer.Length bytes of a file; -1 when it does not exist or cannot be read.</summary>
    public static int Read(string path, Span<byte> buffer)
    {
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(path.Length) + 1];
        int length = Encoding.UTF8.GetBytes(path, bytes);
        bytes[length] = 0;
        fixed (byte* p = bytes)
            return ReadAt(p, buffer);
    }

    public static string? ReadText(string path)
    {
        Span<byte> buffer = stackalloc byte[4096];
        int n = Read(path, buffer);
        return n < 0 ? null : Encoding.ASCII.GetString(buffer[..n]);
    }

    /// <summary>/proc/TID/comm without its newline (at most 15 bytes, as the kernel keeps it); null when the task is gone.</summary>
    public static string? ReadComm(int tid)
    {
        Span<byte> buffer = stackalloc byte[64];
        int n = Read(tid, "comm"u8, buffer);
        if (n <= 0)
            return null;
        var name = buffer[..n];
        if (name[^1] == (byte)'\n')
            name = name[..^1];
        return Encoding.UTF8.GetString(name);
    }

    /// <summary>The target of the link /proc/PID/NAME; its length, or -1 when it cannot be read.</summary>
    public static int ReadLink(int pid, ReadOnlySpan<byte> name, Span<byte> buffer)
    {
        byte* path = stackalloc byte[MaxPath];
        if (!TaskPath(pid, name, new Span<byte>(path, MaxPath)))
            return -1;
        fixed (byte* b = buffer)
            return (int)readlink(path, b, buffer.Length);
    }

    /// <summary>Whether thread <paramref name="tid"/> belongs to process <paramref name="tgid"/> now (/proc/TGID/task/TID exists).</summary>
    public static bool IsThreadOf(int tgid, int tid)
    {
        Span<byte> name = stackalloc byte[5 + 11];
        "task/"u8.CopyTo(name);
        if (!tid.TryFormat(name[5..], out int digits))
            return false;
        byte* path = stackalloc byte[MaxPath];
        return TaskPath(tgid, name[..(5 + digits)], new Span<byte>(path, MaxPath)) && access(path, F_OK) == 0;
    }

    /// <summary>"/proc/PID/NAME" and a NUL; false when it does not fit.</summary>
    private static bool TaskPath(int pid, ReadOnlySpan<byte> name, Span<byte> path)
    {
        "/proc/"u8.CopyTo(path);
        int at = "/proc/".Length;
        if (!pid.TryFormat(path[at..], out int digits))
            return false;
        at += digits;
        if (at + 1 + name.Length + 1 > path.Length)
            return false;
        path[at++] = (byte)'/';
        name.CopyTo(path[at..]);
        path[at + name.Length] = 0;
        return true;
    }

    private static int ReadAt(byte* path, Span<byte> buffer)
    {
        // A bare descriptor, not a SafeHandle: it never leaves this method, so nothing else can close
        // or reuse it, and a handle object per read would be the one allocation left on the exec
        // path of name subscriptions (issue 16).
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        try
        {
            int total = 0;
            fixed (byte* b = buffer)
            {
                while (total < buffer.Length)
                {
                    nint n = (nint)pread(fd, b + total, (size_t)(buffer.Length - total), total);
                    if (n < 0 && Errno.Last == Errno.EINTR)
                        continue;
                    if (n < 0)
                        return total > 0 ? total : -1; // ESRCH: the task went away while we read
                    if (n == 0)
                        break;
                    total += (int)n;
                }
            }
            return total;
        }
        finally
        {
            close(fd);
        }
    }
}
