using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>
/// Socket calls for the netlink process connector. System.Net.Sockets.Socket refuses AF_NETLINK,
/// so the socket is made and read here and wrapped in a <see cref="FileDescriptorHandle"/>.
/// </summary>
public static unsafe partial class Netlink
{
    public const int AF_NETLINK = 16;
    public const int SOCK_DGRAM = 2;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int NETLINK_CONNECTOR = 11;

    public const int SOL_SOCKET = 1;
    public const int SO_RCVBUF = 8;
    public const int SO_RCVTIMEO = 20;
    public const int SO_RCVBUFFORCE = 33;

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int bind(int fd, SockaddrNl* addr, int addrlen);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int optname, void* optval, int optlen);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int optname, void* optval, int* optlen);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial nint send(int fd, void* buffer, nuint length, int flags);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial nint recv(int fd, void* buffer, nuint length, int flags);
}

/// <summary>struct sockaddr_nl.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SockaddrNl
{
    public ushort Family;
    public ushort Pad;
    public uint Pid;
    public uint Groups;
}

/// <summary>struct timeval, for SO_RCVTIMEO.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct TimeVal
{
    public long Seconds;
    public long Microseconds;
}
