namespace Kmonitor.Procfs;

/// <summary>What /proc says about one task (a process or a thread): the fields the daemon needs.</summary>
/// <param name="Tgid">The thread group (process) the task belongs to.</param>
/// <param name="RealUid">Its real uid: what the 2004 driver put in si_uid (task->uid).</param>
/// <param name="State">The state letter: R, S, D, Z (zombie), X (dead), ...</param>
/// <param name="Threads">Threads still counted in its thread group.</param>
/// <param name="EffectiveUid">Its effective uid.</param>
/// <param name="EffectiveCaps">CapEff: its effective capabilities, in its own user namespace.</param>
/// <param name="NamespaceDepth">How deep its pid namespace is below the daemon's (NSpid entries - 1).</param>
/// <param name="InnermostPid">Its pid in its own (innermost) pid namespace: what it calls itself.</param>
/// <param name="ParentPid">PPid: its parent process, as the daemon's pid namespace sees it (0 for init and kthreadd).</param>
public readonly record struct ProcTaskStatus(int Tgid, uint RealUid, char State, int Threads,
    uint EffectiveUid = 0, ulong EffectiveCaps = 0, int NamespaceDepth = 0, int InnermostPid = 0, int ParentPid = 0)
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
        int length = ProcFile.Read(tid, "status"u8, buffer);
        if (length <= 0)
            return false;
        return TryParse(buffer[..length], out status);
    }

    /// <summary>Parses the text of a /proc/&lt;pid&gt;/status file.</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out ProcTaskStatus status)
    {
        status = default;
        int tgid = -1, threads = -1, depth = 0, innermost = 0, parent = 0;
        long uid = -1, euid = -1;
        ulong caps = 0;
        char state = '\0';
        foreach (var range in text.Split((byte)'\n'))
        {
            var line = text[range];
            if (line.StartsWith("State:"u8))
                state = (char)line["State:"u8.Length..].TrimStart((byte)'\t').TrimStart((byte)' ')[0];
            else if (line.StartsWith("Tgid:"u8))
                tgid = (int)FirstNumber(line["Tgid:"u8.Length..]);
            else if (line.StartsWith("PPid:"u8))
                parent = (int)Math.Max(FirstNumber(line["PPid:"u8.Length..]), 0);
            else if (line.StartsWith("Uid:"u8))
            {
                var ids = line["Uid:"u8.Length..];
                uid = FirstNumber(ids);
                euid = FirstNumber(SkipNumber(ids));
            }
            else if (line.StartsWith("CapEff:"u8))
                caps = HexNumber(line["CapEff:"u8.Length..]);
            else if (line.StartsWith("NSpid:"u8))
                (depth, innermost) = LastOfList(line["NSpid:"u8.Length..]);
            else if (line.StartsWith("Threads:"u8))
                threads = (int)FirstNumber(line["Threads:"u8.Length..]);
        }
        if (tgid <= 0 || uid < 0 || state == '\0')
            return false;
        status = new ProcTaskStatus(tgid, (uint)uid, state, threads, (uint)Math.Max(euid, 0), caps, depth, innermost, parent);
        return true;
    }

    /// <summary>The pid this task has in the pid namespace <paramref name="depth"/> levels below ours, from its NSpid line.</summary>
    public static int? PidAtDepth(int tid, int depth)
    {
        Span<byte> buffer = stackalloc byte[4096];
        int length = ProcFile.Read(tid, "status"u8, buffer);
        if (length <= 0)
            return null;
        ReadOnlySpan<byte> text = buffer[..length];
        int start = text.IndexOf("\nNSpid:"u8);
        if (start < 0)
            return depth == 0 ? tid : null;
        ReadOnlySpan<byte> list = text[(start + "\nNSpid:"u8.Length)..];
        int end = list.IndexOf((byte)'\n');
        if (end >= 0)
            list = list[..end];
        for (int level = 0; ; level++)
        {
            list = list.TrimStart("\t "u8);
            if (list.IsEmpty)
                return null;
            if (level == depth)
                return (int)FirstNumber(list);
            list = SkipNumber(list);
        }
    }

    private static ReadOnlySpan<byte> SkipNumber(ReadOnlySpan<byte> field)
    {
        field = field.TrimStart("\t "u8);
        int i = 0;
        while (i < field.Length && field[i] >= (byte)'0' && field[i] <= (byte)'9')
            i++;
        return field[i..];
    }

    private static ulong HexNumber(ReadOnlySpan<byte> field) =>
        ulong.TryParse(System.Text.Encoding.ASCII.GetString(field.Trim("\t "u8)), System.Globalization.NumberStyles.HexNumber, null, out ulong v) ? v : 0;

    /// <summary>(entries - 1, last entry) of a whitespace-separated list of numbers.</summary>
    private static (int Depth, int Last) LastOfList(ReadOnlySpan<byte> field)
    {
        int count = 0, last = 0;
        while (true)
        {
            field = field.TrimStart("\t "u8);
            if (field.IsEmpty || field[0] < (byte)'0' || field[0] > (byte)'9')
                return (Math.Max(count - 1, 0), last);
            last = (int)FirstNumber(field);
            count++;
            field = SkipNumber(field);
        }
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
