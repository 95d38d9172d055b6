using Tmds.Linux;

namespace Kmonitor.Daemon;

/// <summary>Undoing an inherited SIG_IGN, with Tmds.LibC's sigaction(2).</summary>
internal static unsafe class SignalDisposition
{
    /// <summary>
    /// A shell starts a background job with SIGINT ignored, and .NET leaves an ignored SIGINT alone,
    /// so `kill -INT` would do nothing. Resetting it to the default before .NET installs its
    /// handlers lets the daemon's SIGINT registration see it.
    /// </summary>
    public static void RestoreDefault(int signum)
    {
        var action = new sigaction { sa_handler = LibC.SIG_DFL }; // an empty mask, no flags
        LibC.sigaction(signum, &action, null);
    }
}
