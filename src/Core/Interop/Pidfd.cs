using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>
/// Process file descriptors (Linux 5.3+, wrapped by glibc 2.36+), which Tmds.LibC 0.5.0 lacks. A
/// pidfd names one process for its whole life, so a signal sent through it can never reach a later
/// process that reuses the pid.
/// </summary>
public static unsafe partial class Pidfd
{
    /// <summary>An invalid handle on failure (errno ESRCH: no such process; EINVAL: not a thread-group leader).</summary>
    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial FileDescriptorHandle pidfd_open(int pid, uint flags);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int pidfd_send_signal(SafeHandle pidfd, int sig, SigInfo* info, uint flags);
}

/// <summary>
/// siginfo_t for a queued signal (the _rt member): si_signo, si_errno, si_code, then a union aligned
/// to a pointer holding si_pid, si_uid and the sigval whose low 32 bits are si_int; 128 bytes, all
/// copied by the kernel. Laid out sequentially so the union lands where the C compiler puts it on
/// every little-endian Linux (offset 16 on 64-bit). Not Tmds.LibC's siginfo_t: 0.5.0 swaps si_code
/// and si_errno, and a signal with si_code 0 (SI_USER) is refused by pidfd_send_signal.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 128)]
public struct SigInfo
{
    /// <summary>si_code of a signal queued by sigqueue(3), as the 2004 driver set it.</summary>
    public const int SI_QUEUE = -1;

    public int Signo;
    public int Errno;
    public int Code;
    public QueuedFields Queued;

    [StructLayout(LayoutKind.Sequential)]
    public struct QueuedFields
    {
        public int Pid;
        public uint Uid;
        public SigVal Value;
    }

    /// <summary>union sigval: pointer-sized and pointer-aligned, which aligns the union above it.</summary>
    [StructLayout(LayoutKind.Explicit)]
    public struct SigVal
    {
        [FieldOffset(0)] public int Int;
        [FieldOffset(0)] public nint Pointer;
    }
}
