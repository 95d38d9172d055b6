using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Mono.Unix;
using Mono.Unix.Native;

namespace Kmonitor.Samples.WaitOnPid;

/// <summary>struct kmonitor_cmd of linux/kmonitor.h: 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct KmonitorCmd(int Pid, int Type, int Signal)
{
    public const int KMONITOR_PROCESS_EXIT = 0x40;
}

/// <summary>The one ioctl this sample needs, and the signal number of a RealTimeSignum.</summary>
internal static partial class KmonitorIoctl
{
    private const uint KMONITOR_IOW_REGISTER = 0x400CDE01;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(SafeFileHandle fd, nuint request, in KmonitorCmd argument);

    /// <summary>Returns 0, or the errno of a failed REGISTER.</summary>
    public static int Register(SafeFileHandle file, in KmonitorCmd cmd) =>
        ioctl(file, KMONITOR_IOW_REGISTER, cmd) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>SIGRTMIN + offset, as the C library numbers it (SIGRTMIN is 34 with glibc).</summary>
    public static int RealTimeSignalNumber(RealTimeSignum signum) => NativeConvert.FromRealTimeSignum(signum);
}
