using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>A socketpair and descriptor passing (SCM_RIGHTS), for the signal relay.</summary>
public static unsafe partial class UnixSockets
{
    public const int AF_UNIX = 1;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SCM_RIGHTS = 1;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int socketpair(int domain, int type, int protocol, int* fds);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial nint sendmsg(int fd, MsgHdr* message, int flags);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial nint recvmsg(int fd, MsgHdr* message, int flags);

    /// <summary>CMSG_SPACE(sizeof(int)): a cmsghdr (16 bytes on 64-bit) and one descriptor, aligned to 8.</summary>
    public const int OneDescriptorControlSpace = 24;

    /// <summary>CMSG_LEN(sizeof(int)).</summary>
    public const int OneDescriptorControlLength = 20;
}

/// <summary>struct msghdr (64-bit).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct MsgHdr
{
    public void* Name;
    public uint NameLength;
    public IoVec* Iov;
    public nuint IovLength;
    public void* Control;
    public nuint ControlLength;
    public int Flags;
}

/// <summary>struct cmsghdr (64-bit), followed by its data.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CmsgHdr
{
    public nuint Length;
    public int Level;
    public int Type;
}
