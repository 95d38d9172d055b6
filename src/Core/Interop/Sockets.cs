using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Kmonitor.Interop;

/// <summary>
/// Socket calls on a descriptor the caller owns. Tmds.LibC 0.5.0 declares them with an int
/// descriptor; these take the handle itself. socket(2) and socketpair(2), which make descriptors,
/// and the structs and constants come from Tmds.LibC.
/// </summary>
public static unsafe partial class Sockets
{
    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int bind(SafeHandle socket, void* address, uint addressLength);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int setsockopt(SafeHandle socket, int level, int name, void* value, uint length);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int getsockopt(SafeHandle socket, int level, int name, void* value, uint* length);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial nint send(SafeHandle socket, void* buffer, nuint length, int flags);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial nint sendmsg(SafeHandle socket, msghdr* message, int flags);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial nint recvmsg(SafeHandle socket, msghdr* message, int flags);

    /// <summary>recvmmsg(2): Tmds.LibC 0.5.0 has struct mmsghdr's flag MSG_WAITFORONE but not the call.</summary>
    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int recvmmsg(SafeHandle socket, MMsgHdr* messages, uint count, int flags, timespec* timeout);

    /// <summary>
    /// CMSG_LEN(sizeof(int)): the cmsg_len of one passed descriptor. Not Tmds.LibC's CMSG_LEN, which
    /// (0.5.0) rounds the total up to 24 on 64-bit, where the kernel would then read two descriptors.
    /// </summary>
    public static int OneDescriptorControlLength => LibC.CMSG_ALIGN(sizeof(cmsghdr)) + sizeof(int);

    /// <summary>CMSG_SPACE(sizeof(int)): the control buffer for one passed descriptor.</summary>
    public static int OneDescriptorControlSpace => LibC.CMSG_SPACE(sizeof(int));
}

/// <summary>struct mmsghdr: one message of recvmmsg(2), and the bytes the kernel put in it.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MMsgHdr
{
    public msghdr Header;
    public uint Length;
}

/// <summary>struct timeval, for SO_RCVTIMEO (Tmds.LibC 0.5.0 has struct timespec only).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct TimeVal
{
    public time_t Seconds;
    public long_t Microseconds; // suseconds_t: a long, as tv_sec's time_t is
}
