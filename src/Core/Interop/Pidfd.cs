using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>
/// Process file descriptors (Linux 5.3+, wrapped by glibc 2.36+). A pidfd names one process for its
/// whole life, so a signal sent through it can never reach a later process that reuses the pid.
/// </summary>
public static unsafe partial class Pidfd
{
    [LibraryImport(Libc.Name, EntryPoint = "pidfd_open", SetLastError = true)]
    public static partial int pidfd_open(int pid, uint flags);

    [LibraryImport(Libc.Name, EntryPoint = "pidfd_send_signal", SetLastError = true)]
    public static partial int pidfd_send_signal(FileDescriptorHandle pidfd, int sig, SigInfo* info, uint flags);
}

/// <summary>
/// siginfo_t as the kernel lays it out on 64-bit Linux for a queued signal (the _rt member):
/// si_signo, si_errno, si_code, then (8-byte aligned) si_pid, si_uid and the sigval whose low
/// 32 bits are si_int. The kernel copies all 128 bytes.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
public struct SigInfo
{
    /// <summary>si_code of a signal queued by sigqueue(3), as the 2004 driver set it.</summary>
    public const int SI_QUEUE = -1;

    [FieldOffset(0)] public int Signo;
    [FieldOffset(4)] public int Errno;
    [FieldOffset(8)] public int Code;
    [FieldOffset(16)] public int Pid;
    [FieldOffset(20)] public uint Uid;
    [FieldOffset(24)] public int Int;
}
