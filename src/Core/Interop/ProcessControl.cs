using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>prctl(2) and the options the signal relay sets (linux/prctl.h), which Tmds.LibC 0.5.0 lacks.</summary>
public static partial class ProcessControl
{
    public const int PR_SET_DUMPABLE = 4;
    public const int PR_SET_NO_NEW_PRIVS = 38;

    /// <summary>prctl is variadic; integer arguments travel as fixed ones do on x86-64 and arm64 Linux.</summary>
    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
