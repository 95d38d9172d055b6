using Tmds.Linux;

namespace Kmonitor.Interop;

/// <summary>pivot_root(2), which neither glibc nor Tmds.LibC 0.5.0 wraps; mount, umount2 and the MS_ flags are Tmds.LibC's.</summary>
public static unsafe class Mounts
{
    private static readonly int SYS_pivot_root = Architectures.SystemCall(x64: 155, arm64: 41);

    public static int pivot_root(byte* newRoot, byte* putOld) => (int)LibC.syscall(SYS_pivot_root, newRoot, putOld);
}
