using Kmonitor.Diagnostics;
using Kmonitor.Fuse;

namespace Kmonitor.Daemon;

/// <summary>The FUSE layer's log lines, in the daemon's log.</summary>
internal static class FuseLogging
{
    public static void ToDaemonLog(FuseLogLevel level, string message)
    {
        if (level == FuseLogLevel.Error)
            Log.Error(message);
        else
            Log.Warning(message);
    }
}
