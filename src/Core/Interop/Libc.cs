using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>General libc calls shared by every native area: descriptors, polling, process ids.</summary>
public static partial class Libc
{
    public const string Name = "libc";

    [LibraryImport(Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    /// <summary>open(2) with a NUL-terminated UTF-8 path the caller built (no string, no marshalling).</summary>
    [LibraryImport(Name, EntryPoint = "open", SetLastError = true)]
    public static unsafe partial int open(byte* path, int flags, int mode);

    [LibraryImport(Name, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(Name, SetLastError = true)]
    public static unsafe partial nint pread(int fd, void* buffer, nuint count, long offset);

    [LibraryImport(Name, SetLastError = true)]
    public static unsafe partial int access(byte* path, int mode);

    public const int F_OK = 0;

    [LibraryImport(Name, SetLastError = true)]
    public static unsafe partial nint readlink(byte* path, byte* buffer, nuint size);

    [LibraryImport(Name, SetLastError = true)]
    public static unsafe partial int ioctl(int fd, nuint request, void* argument);

    [LibraryImport(Name, SetLastError = true)]
    public static unsafe partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport(Name, SetLastError = true)]
    public static unsafe partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport(Name, SetLastError = true)]
    public static unsafe partial nint writev(int fd, IoVec* iov, int iovcnt);

    [LibraryImport(Name, SetLastError = true)]
    public static unsafe partial int poll(PollFd* fds, nuint nfds, int timeoutMs);

    [LibraryImport(Name, SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport(Name)]
    public static partial int getpid();

    [LibraryImport(Name)]
    public static partial int gettid();

    public const short POLLIN = 0x001;
    public const short POLLERR = 0x008;
    public const short POLLHUP = 0x010;
    public const int EFD_CLOEXEC = 0x80000;
    public const int O_RDONLY = 0;
    public const int O_RDWR = 2;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
}

[StructLayout(LayoutKind.Sequential)]
public struct PollFd
{
    public int Fd;
    public short Events;
    public short Revents;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct IoVec
{
    public void* Base;
    public nuint Length;
}
