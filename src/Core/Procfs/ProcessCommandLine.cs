using System.Buffers;
using System.Text;

namespace Kmonitor.Procfs;

/// <summary>/proc/PID/cmdline, what KMONITOR_MATCH_CMDLINE matches: argv joined by single spaces, as pgrep -f sees it.</summary>
public static class ProcessCommandLine
{
    /// <summary>How much of a command line is matched; pgrep reads 4096 bytes less, so this errs long.</summary>
    public const int MaxBytes = 32 * 1024;

    /// <summary>
    /// The command line; "" for a zombie or a kernel thread (the kernel shows none once the memory is
    /// gone); null when the process is gone.
    /// </summary>
    public static string? Read(int pid)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(MaxBytes);
        try
        {
            int n = ProcFile.Read(pid, "cmdline"u8, buffer.AsSpan(0, MaxBytes));
            return n < 0 ? null : Parse(buffer.AsSpan(0, n));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>NUL-separated argv (with its final NUL) as one line.</summary>
    public static string Parse(ReadOnlySpan<byte> text)
    {
        if (text.Length > 0 && text[^1] == 0)
            text = text[..^1];
        return Encoding.UTF8.GetString(text).Replace('\0', ' ');
    }
}
