using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Kmonitor.Interop;

/// <summary>
/// epoll(7) calls on descriptors the caller owns, declared with handles (Tmds.LibC 0.5.0 takes int
/// descriptors). epoll_create1, struct epoll_event (packed on x86-64 only) and the constants come
/// from Tmds.LibC.
/// </summary>
public static unsafe partial class Epoll
{
    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int epoll_ctl(SafeHandle epoll, int op, SafeHandle fd, epoll_event* ev);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int epoll_wait(SafeHandle epoll, epoll_event* events, int maxEvents, int timeoutMs);
}
