using System.Buffers.Binary;
using System.Text;
using Kmonitor.Abi;
using Kmonitor.Client;

namespace Kmonitor.Tests.Unit.Client;

// Inside the namespace: Kmonitor.Core has a KmonitorException too, which the enclosing namespace would find first.
using KmonitorException = Kmonitor.Client.KmonitorException;

/// <summary>
/// The library's reading of struct kmonitor_event: bytes laid out by hand at the header's offsets,
/// and records written by the daemon's own struct (which the header tests check), read back.
/// </summary>
public class RecordParserTests
{
    /// <summary>One record at the offsets of include/linux/kmonitor.h.</summary>
    private static byte[] Record(ushort type, uint seq, ulong timeNs, int pid, int tgid, int ppid, uint uid, int status, uint watch, string comm)
    {
        var b = new byte[64];
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(0), 64);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), type);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), timeNs);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(16), pid);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(20), tgid);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(24), ppid);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(28), uid);
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(32), status);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(36), watch);
        Encoding.UTF8.GetBytes(comm).CopyTo(b.AsSpan(40, 16));
        return b;
    }

    private static List<ProcessEvent> Parse(params byte[][] records)
    {
        var events = new List<ProcessEvent>();
        RecordParser.Parse(records.SelectMany(r => r).ToArray(), events);
        return events;
    }

    [Fact]
    public void Every_field_is_read_from_its_offset()
    {
        Assert.True(BitConverter.IsLittleEndian, "the hand-made records are little-endian, as this machine");
        var e = Parse(Record(0x40, 7, 123_456_789_012, 4242, 4241, 1, 1000, 0x0300, 99, "sleep")).Single();
        Assert.Equal(new ProcessEvent(ProcessEventKind.ProcessExit, 7, 123_456_789_012, 4242, 4241, 1, 1000, 0x0300, 99, "sleep", 0), e);
        Assert.Equal(3, e.ExitCode);
    }

    [Theory]
    [InlineData(0x01, ProcessEventKind.ThreadCreate)]
    [InlineData(0x02, ProcessEventKind.ThreadAbort)]
    [InlineData(0x04, ProcessEventKind.ThreadExit)]
    [InlineData(0x08, ProcessEventKind.ProcessFork)]
    [InlineData(0x10, ProcessEventKind.ProcessAbort)]
    [InlineData(0x20, ProcessEventKind.ProcessExec)]
    [InlineData(0x40, ProcessEventKind.ProcessExit)]
    [InlineData(0x80, ProcessEventKind.Existing)]
    [InlineData(0x8000, ProcessEventKind.Lost)]
    public void Each_record_type_is_its_kind(int type, ProcessEventKind kind) =>
        Assert.Equal(kind, Parse(Record((ushort)type, 1, 0, 1, 1, 0, 0, 0, 1, "x")).Single().Kind);

    [Fact]
    public void A_lost_record_carries_its_count_not_a_wait_status()
    {
        var e = Parse(Record(0x8000, 9, 0, 0, 0, 0, 0, 1234, 0, "")).Single();
        Assert.Equal((ProcessEventKind.Lost, 1234, 0, (int?)null), (e.Kind, e.LostCount, e.WaitStatus, e.ExitCode));
    }

    [Fact]
    public void A_name_of_16_bytes_without_NUL_is_read_whole_and_a_shorter_one_up_to_its_NUL()
    {
        var names = Parse(Record(0x20, 1, 0, 1, 1, 0, 0, 0, 1, "0123456789abcdef"), Record(0x20, 2, 0, 1, 1, 0, 0, 0, 1, "ab\0cd"))
            .Select(e => e.Name);
        Assert.Equal(["0123456789abcdef", "ab"], names);
    }

    [Fact]
    public void A_batch_comes_out_in_order()
    {
        var seqs = Parse([.. Enumerable.Range(1, 64).Select(i => Record(0x08, (uint)i, 0, i, i, 1, 0, 0, 1, "x"))]).Select(e => e.Sequence);
        Assert.Equal(Enumerable.Range(1, 64).Select(i => (uint)i), seqs);
    }

    [Fact]
    public void What_the_daemon_writes_the_library_reads()
    {
        var record = new KmonitorEventRecord
        {
            size = KmonitorEventRecord.Size, type = (ushort)KmonitorAbi.KMONITOR_PROCESS_ABORT, seq = 3, time_ns = 42,
            pid = 10, tgid = 10, ppid = 2, uid = 1001, status = 0x8B, watch = 5,
        };
        record.SetComm("crasher"u8);
        var bytes = new byte[KmonitorEventRecord.Size];
        record.Write(bytes);
        var e = Parse(bytes).Single();
        Assert.Equal(new ProcessEvent(ProcessEventKind.ProcessAbort, 3, 42, 10, 10, 2, 1001, 0x8B, 5, "crasher", 0), e);
        Assert.Equal("killed by SIGSEGV (core dumped)", e.DescribeStatus());
    }

    [Fact]
    public void A_record_the_library_does_not_know_is_EPROTO_not_a_guess()
    {
        var unknown = Assert.Throws<KmonitorException>(() => Parse(Record(0x100, 1, 0, 1, 1, 0, 0, 0, 1, "x")));
        var torn = Assert.Throws<KmonitorException>(() => RecordParser.Parse(new byte[65], new List<ProcessEvent>()));
        Assert.Equal((71, 71), (unknown.Errno, torn.Errno));
    }
}
