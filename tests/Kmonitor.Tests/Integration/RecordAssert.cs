using Kmonitor.Tests.Infrastructure;

namespace Kmonitor.Tests.Integration;

/// <summary>Exact comparisons of what a monitor read, with failure messages that show all of it.</summary>
public static class RecordAssert
{
    /// <summary>
    /// The records, as (type, pid, tgid, ppid, uid, status, watch, comm) with ppid compared only where
    /// the ABI fixes it (FORK: the forking process; otherwise "its parent or 0", which re-parenting
    /// changes), are exactly <paramref name="expected"/> as a multiset: none missing, none extra, no
    /// duplicate.
    /// </summary>
    public static void SameSet(IEnumerable<Expected> expected, IReadOnlyList<EventRecord> actual)
    {
        var want = expected.Select(e => e.ToString()).Order(StringComparer.Ordinal).ToList();
        var got = actual.Select(r => Expected.Of(r).ToString()).Order(StringComparer.Ordinal).ToList();
        var missing = Minus(want, got);
        var extra = Minus(got, want);
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"missing {missing.Count}:\n  {string.Join("\n  ", missing)}\nextra {extra.Count}:\n  {string.Join("\n  ", extra)}\nread {EventRecord.Show(actual)}");
    }

    /// <summary>seq is 1, 2, 3, ... in the order read: no gap, no repeat.</summary>
    public static void NumberedFromOne(IReadOnlyList<EventRecord> records)
    {
        for (int i = 0; i < records.Count; i++)
            Assert.True(records[i].Seq == (uint)(i + 1), $"record {i + 1} has seq {records[i].Seq}; {EventRecord.Show(records)}");
    }

    /// <summary>Every record is a whole, well-formed one: size 64, reserved 0.</summary>
    public static void WellFormed(IReadOnlyList<EventRecord> records) =>
        Assert.True(records.All(r => r.Size == Abi.KmonitorEventRecord.Size && r.Reserved == 0), EventRecord.Show(records));

    private static List<string> Minus(List<string> from, List<string> take)
    {
        var rest = new List<string>(from);
        foreach (var t in take)
            rest.Remove(t);
        return rest;
    }
}

/// <summary>What one record must say; <c>Ppid</c> null where the ABI leaves it to re-parenting.</summary>
public readonly record struct Expected(int Type, int Pid, int? Ppid, uint Uid, int Status, uint Watch, string Comm)
{
    public static Expected Of(EventRecord r) =>
        new(r.Type, r.Pid, r.Type == Abi.KmonitorAbi.KMONITOR_PROCESS_FORK ? r.Ppid : null, r.Uid, r.Status, r.Watch, r.Comm) { Tgid = r.Tgid };

    /// <summary>Processes only here: the tgid is the pid.</summary>
    public int Tgid { get; init; } = Pid;

    public override string ToString() =>
        $"{EventRecord.TypeName(Type)} pid={Pid} tgid={Tgid} ppid={(Ppid is int p ? p.ToString() : "*")} uid={Uid} status={Status} watch={Watch} comm='{Comm}'";
}
