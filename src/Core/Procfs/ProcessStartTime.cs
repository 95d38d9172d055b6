using System.Text;

namespace Kmonitor.Procfs;

/// <summary>
/// A task's start time, field 22 of /proc/PID/stat (clock ticks since boot): with the pid, it names
/// one process for good, so a restarted daemon can tell the process it was watching from a later one
/// that has been given the same pid.
/// </summary>
public static class ProcessStartTime
{
    /// <summary>The start time of task <paramref name="pid"/>, or null when it is gone.</summary>
    public static ulong? Read(int pid)
    {
        Span<byte> buffer = stackalloc byte[1024];
        int n = ProcFile.Read(pid, "stat"u8, buffer);
        return n <= 0 ? null : Parse(buffer[..n]);
    }

    /// <summary>Field 22 of a stat line; the name (field 2) may hold spaces and ')' so it is skipped to its last ')'.</summary>
    public static ulong? Parse(ReadOnlySpan<byte> stat)
    {
        int close = stat.LastIndexOf((byte)')');
        if (close < 0)
            return null;
        // After ") " comes field 3; field 22 is 19 fields later.
        var rest = Encoding.ASCII.GetString(stat[(close + 1)..]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return rest.Length > 19 && ulong.TryParse(rest[19], out ulong ticks) ? ticks : null;
    }
}
