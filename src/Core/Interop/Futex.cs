using Tmds.Linux;

namespace Kmonitor.Interop;

/// <summary>futex(2), the call under every thread wake-up: glibc has no wrapper and Tmds.LibC 0.5.0 no number.</summary>
public static unsafe class Futex
{
    private static readonly int SYS_futex = Architectures.SystemCall(x64: 202, arm64: 98);

    public const int FUTEX_WAIT_PRIVATE = 0 | 128;
    public const int FUTEX_WAKE_PRIVATE = 1 | 128;

    public static int futex(int* address, int op, int value, timespec* timeout) =>
        (int)LibC.syscall(SYS_futex, address, op, value, timeout, null, 0);
}
