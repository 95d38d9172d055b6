using System.Globalization;
using Kmonitor.Client;

namespace Kmonitor.Command.Output;

/// <summary>
/// `watch`'s line for an event: TIME EVENT PID PPID UID NAME [STATUS], with the columns padded so
/// that they line up, the name last but for the status (`exited 3`, `killed by SIGTERM`).
/// </summary>
public static class EventText
{
    public static string Line(in ProcessEvent e, Clock clock)
    {
        string time = clock.Wall(e.TimeNs).ToLocalTime().ToString("HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        string line = $"{time} {EventNames.Of(e.Kind),-13} {e.Pid,7} {e.Ppid,7} {e.Uid,6} {NameOf(e)}";
        return HasStatus(e.Kind) ? $"{line} {e.DescribeStatus()}" : line;
    }

    /// <summary>
    /// The name to print: `?` when the daemon could not read it (a process that exec'd and ended
    /// before the daemon looked), so that the columns after it stay where a reader expects them.
    /// </summary>
    public static string NameOf(in ProcessEvent e) => e.Name.Length == 0 ? "?" : e.Name;

    /// <summary>The kinds whose record carries a wait status.</summary>
    public static bool HasStatus(ProcessEventKind kind) => kind is ProcessEventKind.ProcessExit
        or ProcessEventKind.ProcessAbort or ProcessEventKind.ThreadExit or ProcessEventKind.ThreadAbort;

    /// <summary>The shell's convention for how a process ended: its exit code, or 128 + the signal.</summary>
    public static int ExitCodeOf(in ProcessEvent e) => e.ExitCode ?? (e.TermSignal is int signal ? 128 + signal : 0);

    public static string Seconds(ulong ns) => (ns / 1e9).ToString("0.000", CultureInfo.InvariantCulture) + "s";
}
