using System.Globalization;
using System.Text;
using Kmonitor.Abi;
using static Kmonitor.Abi.KmonitorAbi;
using static Kmonitor.Abi.SubscriptionAbi;

namespace Kmonitor.Tests.Infrastructure;

/// <summary>
/// One struct kmonitor_event as kmclient printed it: every field, so a test can check each one.
/// </summary>
public readonly record struct EventRecord(
    int Type, uint Seq, int Pid, int Tgid, int Ppid, uint Uid, int Status, uint Watch,
    int Size, ulong Reserved, ulong TimeNs, string Comm)
{
    private static readonly Dictionary<string, int> Types = new()
    {
        [nameof(KMONITOR_THREAD_CREATE)] = KMONITOR_THREAD_CREATE,
        [nameof(KMONITOR_THREAD_ABORT)] = KMONITOR_THREAD_ABORT,
        [nameof(KMONITOR_THREAD_EXIT)] = KMONITOR_THREAD_EXIT,
        [nameof(KMONITOR_PROCESS_FORK)] = KMONITOR_PROCESS_FORK,
        [nameof(KMONITOR_PROCESS_ABORT)] = KMONITOR_PROCESS_ABORT,
        [nameof(KMONITOR_PROCESS_EXEC)] = KMONITOR_PROCESS_EXEC,
        [nameof(KMONITOR_PROCESS_EXIT)] = KMONITOR_PROCESS_EXIT,
        [nameof(KMONITOR_PROCESS_EXISTING)] = KMONITOR_PROCESS_EXISTING,
        [nameof(KMONITOR_EVENT_LOST)] = KMONITOR_EVENT_LOST,
    };

    /// <summary>The ABI's name of a record type, as kmclient prints it.</summary>
    public static string TypeName(int type) =>
        Types.FirstOrDefault(t => t.Value == type).Key ?? $"0x{type:X}";

    /// <summary>"rec TYPE SEQ PID TGID PPID UID STATUS WATCH SIZE RESERVED TIME_NS COMM" (kmclient.c).</summary>
    public static EventRecord Parse(string line)
    {
        var f = line.Split(' ', 13);
        if (f.Length != 13 || f[0] != "rec")
            throw new FormatException($"not a record: '{line}'");
        int type = Types.TryGetValue(f[1], out int t) ? t : int.Parse(f[1][2..], NumberStyles.HexNumber);
        return new EventRecord(type, uint.Parse(f[2]), int.Parse(f[3]), int.Parse(f[4]), int.Parse(f[5]),
            uint.Parse(f[6]), int.Parse(f[7]), uint.Parse(f[8]), int.Parse(f[9]), ulong.Parse(f[10]),
            ulong.Parse(f[11]), Unescape(f[12]));
    }

    /// <summary>kmclient writes blanks, '\' and unprintable bytes of the name as \xHH.</summary>
    private static string Unescape(string s)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length && s[i + 1] == 'x')
            {
                bytes.Add(byte.Parse(s.AsSpan(i + 2, 2), NumberStyles.HexNumber));
                i += 3;
            }
            else
                bytes.Add((byte)s[i]);
        }
        return Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>The fields a test compares (not seq, time or the constant ones), for exact sets.</summary>
    public (string Type, int Pid, int Tgid, int Ppid, uint Uid, int Status, uint Watch, string Comm) Key =>
        (TypeName(Type), Pid, Tgid, Ppid, Uid, Status, Watch, Comm);

    public override string ToString() =>
        $"{TypeName(Type)} seq={Seq} pid={Pid} tgid={Tgid} ppid={Ppid} uid={Uid} status={Status} watch={Watch} comm='{Comm}' size={Size} reserved={Reserved} time_ns={TimeNs}";

    /// <summary>Records, one per line, for failure messages.</summary>
    public static string Show(IEnumerable<EventRecord> records) =>
        string.Join("\n  ", records.Select(r => r.ToString()).Prepend($"{records.Count()} record(s):"));
}

/// <summary>What a read command answered: "ok N" with its records, or "timeout", or "err NAME".</summary>
public sealed record ReadResult(string Answer, IReadOnlyList<EventRecord> Records)
{
    public bool Ok => Answer.StartsWith("ok ");

    public override string ToString() => $"{Answer}: {EventRecord.Show(Records)}";
}

/// <summary>The wait status a record's status field holds (what waitpid gives a parent).</summary>
public static class WaitStatus
{
    public static int Exited(int code) => (code & 0xFF) << 8;

    public static int Killed(int signal) => signal & 0x7F;
}
