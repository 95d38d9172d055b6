using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>futex(2), the call under every thread wake-up, made directly: one syscall to sleep, one to wake.</summary>
public static unsafe partial class Futex
{
    private const nint SYS_futex = 202; // x86-64, like the epoll_event layout (see ProcessWatcher)
    private const int FUTEX_WAIT_PRIVATE = 0 | 128;
    private const int FUTEX_WAKE_PRIVATE = 1 | 128;

    [LibraryImport(Libc.Name, EntryPoint = "syscall", SetLastError = true)]
    private static partial nint syscall(nint number, int* address, int op, int value, TimeSpec* timeout, nint address2, int value3);

    /// <summary>Sleeps while *<paramref name="address"/> is <paramref name="expected"/>, at most <paramref name="timeoutMs"/>.</summary>
    public static void Wait(int* address, int expected, int timeoutMs)
    {
        var timeout = new TimeSpec { Seconds = timeoutMs / 1000, Nanoseconds = timeoutMs % 1000 * 1_000_000L };
        syscall(SYS_futex, address, FUTEX_WAIT_PRIVATE, expected, &timeout, 0, 0);
    }

    /// <summary>Wakes up to <paramref name="count"/> threads sleeping on <paramref name="address"/>.</summary>
    public static void Wake(int* address, int count) => syscall(SYS_futex, address, FUTEX_WAKE_PRIVATE, count, null, 0, 0);

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
