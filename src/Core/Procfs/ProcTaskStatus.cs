using System.Text;

namespace Kmonitor.Procfs;

/// <summary>What /proc says about one task (a process or a thread): the fields the daemon needs.</summary>
/// <param name="Tgid">The thread group (process) the task belongs to.</param>
/// <param name="RealUid">Its real uid: what the 2004 driver put in si_uid (task->uid).</param>
/// <param name="State">The state letter: R, S, D, Z (zombie), X (dead), ...</param>
/// <param name="Threads">Threads still counted in its thread group.</param>
public readonly record struct ProcTaskStatus(int Tgid, uint RealUid, char State, int Threads)
{
    /// <summary>A zombie or dead task: it has exited, and only its entry waits to be reaped.</summary>
    public bool HasExited => State is 'Z' or 'X';

    /// <summary>
    /// Reads /proc/&lt;tid&gt;/status. A thread id works as well as a process id (the kernel resolves
    /// hidden /proc/&lt;tid&gt; entries). Returns false when no such task exists.
    /// </summary>
    public static bool TryRead(int tid, out ProcTaskStatus status)
    {
        status = default;
        Span<byte> buffer = stackalloc byte[4096];
        int length = ProcFile.Read($"/proc/{tid}/status", buffer);
        if (length <= 0)
            return false;
        return TryParse(buffer[..length], out status);
    }

    /// <summary>Parses the text of a /proc/&lt;pid&gt;/status file.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out ProcTaskStatus status)
    {
        status = default;
        int tgid = -1, threads = -1;
        long uid = -1;
        char state = '\0';
        foreach (var range in text.Split((byte)'\n'))
        {
            var line = text[range];
            if (line.StartsWith("State:"u8))
                state = (char)line["State:"u8.Length..].TrimStart((byte)'\t').TrimStart((byte)' ')[0];
            else if (line.StartsWith("Tgid:"u8))
                tgid = (int)FirstNumber(line["Tgid:"u8.Length..]);
            else if (line.StartsWith("Uid:"u8))
                uid = FirstNumber(line["Uid:"u8.Length..]);
            else if (line.StartsWith("Threads:"u8))
                threads = (int)FirstNumber(line["Threads:"u8.Length..]);
        }
        if (tgid <= 0 || uid < 0 || state == '\0')
            return false;
        status = new ProcTaskStatus(tgid, (uint)uid, state, threads);
        return true;
    }

    private static long FirstNumber(ReadOnlySpan<byte> field)
    {
        field = field.TrimStart("\t "u8);
        long value = 0;
        int i = 0;
        for (; i < field.Length && field[i] >= (byte)'0' && field[i] <= (byte)'9'; i++)
            value = value * 10 + (field[i] - '0');
        return i == 0 ? -1 : value;
    }

    public override string ToString() => $"tgid {Tgid} uid {RealUid} state {State} threads {Threads}";
}

/// <summary>Reads small /proc files without going through FileStream.</summary>
public static class ProcFile
{
    /// <summary>Reads up to buffer.Length bytes of a file; -1 when it does not exist or cannot be read.</summary>
    public static int Read(string path, Span<byte> buffer)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            int total = 0;
            while (total < buffer.Length)
            {
                int n = RandomAccess.Read(handle, buffer[total..], total);
                if (n <= 0)
                    break;
                total += n;
            }
            return total;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1;
        }
    }

    public static string? ReadText(string path)
    {
        Span<byte> buffer = stackalloc byte[4096];
        int n = Read(path, buffer);
        return n < 0 ? null : Encoding.ASCII.GetString(buffer[..n]);
    }
}
