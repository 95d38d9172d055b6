using System.Runtime.InteropServices;
using Kmonitor.Interop;

namespace Kmonitor.Daemon.Interop;

/// <summary>signal(2), to undo an inherited SIG_IGN.</summary>
internal static partial class SignalDisposition
{
    public const int SIGINT = 2;
    private static readonly nint SIG_DFL = 0;

    [LibraryImport(Libc.Name, EntryPoint = "signal", SetLastError = true)]
    private static partial nint signal(int signum, nint handler);

    /// <summary>
    /// A shell starts a background job with SIGINT ignored, and .NET leaves an ignored SIGINT alone,
    /// so `kill -INT` would do nothing. Resetting it to the default before .NET installs its
    /// handlers lets the daemon's SIGINT registration see it.
    /// </summary>
    public static void RestoreDefault(int signum) => signal(signum, SIG_DFL);
}
