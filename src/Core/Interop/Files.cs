using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>
/// Calls on an open file the caller owns, declared with handles (Tmds.LibC 0.5.0 takes int
/// descriptors). open(2), close(2) and the O_ flags come from Tmds.LibC.
/// </summary>
public static unsafe partial class Files
{
    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial nint pread(SafeHandle fd, void* buffer, nuint count, long offset);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int ioctl(SafeHandle fd, nuint request, void* argument);
}
