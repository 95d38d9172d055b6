using System.Buffers.Binary;
using Kmonitor.Events;

namespace Kmonitor.Tests.Unit;

public class ProcConnectorMessageTests
{
    [Fact]
    public void The_filtered_listen_request_is_a_proc_input_of_FORK_EXEC_UID_COMM_EXIT()
    {
        var m = ProcConnectorMessage.BuildListenRequest(useEventFilter: true, portId: 77);
        Assert.Equal(16 + 20 + 8, m.Length);
        Assert.Equal((uint)m.Length, BinaryPrimitives.ReadUInt32LittleEndian(m));          // nlmsg_len
        Assert.Equal(3, BinaryPrimitives.ReadUInt16LittleEndian(m.AsSpan(4)));             // NLMSG_DONE
        Assert.Equal(77u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(12)));          // nlmsg_pid
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(16)));           // CN_IDX_PROC
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(20)));           // CN_VAL_PROC
        Assert.Equal(8, BinaryPrimitives.ReadUInt16LittleEndian(m.AsSpan(32)));            // cn_msg.len
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(36)));           // PROC_CN_MCAST_LISTEN
        Assert.Equal(0x80000207u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(40)));  // FORK|EXEC|UID|COMM|EXIT
    }

    [Fact]
    public void The_plain_listen_request_is_the_4_byte_op_every_kernel_accepts()
    {
        var m = ProcConnectorMessage.BuildListenRequest(useEventFilter: false, portId: 0);
        Assert.Equal(16 + 20 + 4, m.Length);
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(m.AsSpan(32)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(m.AsSpan(36)));
    }

    /// <summary>One netlink message with a proc_event, as the kernel sends it.</summary>
    internal static byte[] Message(uint what, uint seq, params int[] data) => Message(1, what, seq, data);

    internal static byte[] Message(uint idx, uint what, uint seq, params int[] data)
    {
        var m = new byte[16 + 20 + 40];
        BinaryPrimitives.WriteUInt32LittleEndian(m, (uint)m.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(4), 3);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(16), idx);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(20), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(24), seq);
        BinaryPrimitives.WriteUInt16LittleEndian(m.AsSpan(32), 40);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(36), what);
        BinaryPrimitives.WriteUInt32LittleEndian(m.AsSpan(40), 1);               // cpu
        BinaryPrimitives.WriteUInt64LittleEndian(m.AsSpan(44), 123456789);       // timestamp_ns
        for (int i = 0; i < data.Length; i++)
            BinaryPrimitives.WriteInt32LittleEndian(m.AsSpan(52 + 4 * i), data[i]);
        return m;
    }

    private struct Collector : IProcEventSink
    {
        public List<ProcEvent> Events;
        public void Accept(in ProcEvent ev) => Events.Add(ev);
    }

    private static List<ProcEvent> Parse(byte[] datagram)
    {
        var sink = new Collector { Events = [] };
        ProcConnectorMessage.Parse(datagram, ref sink);
        return sink.Events;
    }

    [Fact]
    public void Fork_exec_and_exit_events_are_read_field_by_field()
    {
        var fork = Assert.Single(Parse(Message(0x1, 5, 10, 11, 20, 21)));
        Assert.Equal((ProcEventWhat.PROC_EVENT_FORK, 10, 11, 20, 21, 5u, 1u, 123456789ul),
            (fork.What, fork.ParentPid, fork.ParentTgid, fork.Pid, fork.Tgid, fork.Sequence, fork.Cpu, fork.TimestampNs));

        var exec = Assert.Single(Parse(Message(0x2, 6, 30, 31)));
        Assert.Equal((ProcEventWhat.PROC_EVENT_EXEC, 30, 31), (exec.What, exec.Pid, exec.Tgid));

        // exit: process_pid, process_tgid, exit_code, exit_signal, parent_pid, parent_tgid
        var exit = Assert.Single(Parse(Message(0x80000000, 7, 40, 41, 9, 17, 1, 1)));
        Assert.Equal((ProcEventWhat.PROC_EVENT_EXIT, 40, 41, 9, 1, 1), (exit.What, exit.Pid, exit.Tgid, exit.ExitCode, exit.ParentPid, exit.ParentTgid));

        // id: process_pid, process_tgid, ruid, euid
        var uid = Assert.Single(Parse(Message(0x4, 8, 50, 51, 1000, 0)));
        Assert.Equal((ProcEventWhat.PROC_EVENT_UID, 50, 51, 1000u), (uid.What, uid.Pid, uid.Tgid, uid.RealUid));

        // comm: process_pid, process_tgid, comm[16] (a rename, which NAME and REGEX subscriptions follow)
        var comm = Assert.Single(Parse(Message(0x200, 9, 60, 61, 0x6b726f77, 0x7265)));
        Assert.Equal((ProcEventWhat.PROC_EVENT_COMM, 60, 61), (comm.What, comm.Pid, comm.Tgid));
        var name = new byte[ProcEvent.TASK_COMM_LEN];
        Assert.Equal("worker", System.Text.Encoding.ASCII.GetString(name, 0, comm.CopyComm(name)));
    }

    [Fact]
    public void Several_messages_in_one_datagram_are_all_read()
    {
        var datagram = Message(0x2, 1, 1, 1).Concat(Message(0x2, 2, 2, 2)).ToArray();
        Assert.Equal([1, 2], Parse(datagram).Select(e => e.Pid));
    }

    [Fact]
    public void Other_connectors_and_truncated_messages_are_skipped()
    {
        Assert.Empty(Parse(Message(idx: 7, what: 0x2, seq: 1, 1, 1)));
        Assert.Empty(Parse(Message(0x2, 1, 1, 1)[..30]));
        Assert.Empty(Parse([]));
    }
}
