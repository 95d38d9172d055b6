namespace Kmonitor.Procfs;

/// <summary>The exit status of a zombie, from field 52 of /proc/&lt;pid&gt;/stat (Linux 3.5+).</summary>
public static class TaskExitCode
{
    /// <summary>The raw wait status of an exited task, or null when it is not known.</summary>
    public static int? TryRead(int pid)
    {
        Span<byte> buffer = stackalloc byte[1024];
        int length = ProcFile.Read(pid, "stat"u8, buffer);
        return length <= 0 ? null : TryParse(buffer[..length]);
    }

    /// <summary>
    /// Parses a stat line. The command name (field 2) may hold spaces and parentheses, so fields
    /// are counted from the last ')'.
    /// </summary>
    public static int? TryParse(ReadOnlySpan<byte> stat)
    {
        int close = stat.LastIndexOf((byte)')');
        if (close < 0)
            return null;
        // After ")" come fields 3.. separated by single spaces; exit_code is field 52.
        var rest = stat[(close + 2)..].TrimEnd("\n"u8);
        int field = 3;
        foreach (var range in rest.Split((byte)' '))
        {
            if (field == 52)
                return int.TryParse(rest[range], out int code) ? code : null;
            field++;
        }
        return null;
    }

    /// <summary>True when a wait status says the task was killed by a signal (WIFSIGNALED).</summary>
    public static bool IsKilledBySignal(int waitStatus) => (waitStatus & 0x7F) != 0 && (waitStatus & 0x7F) != 0x7F;
}
