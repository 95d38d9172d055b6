using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>epoll(7), to watch many pidfds from one thread.</summary>
public static unsafe partial class Epoll
{
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLIN = 0x001;

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int epoll_ctl(int epfd, int op, int fd, EpollEvent* ev);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int epoll_wait(int epfd, EpollEvent* events, int maxevents, int timeoutMs);
}

/// <summary>
/// struct epoll_event. On x86-64 the kernel declares it packed (12 bytes: events, then the 64-bit
/// data at offset 4); the daemon checks the architecture before using it.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
public struct EpollEvent
{
    public uint Events;
    public ulong Data;
}
