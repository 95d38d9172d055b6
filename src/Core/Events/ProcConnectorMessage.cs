using System.Buffers.Binary;

namespace Kmonitor.Events;

/// <summary>
/// Layouts of the process connector's messages: struct nlmsghdr, struct cn_msg and struct proc_event
/// (linux/netlink.h, linux/connector.h, linux/cn_proc.h), and the subscription request.
/// Pure byte work, so it is unit-tested without a socket.
/// </summary>
public static class ProcConnectorMessage
{
    public const int NlmsgHeaderSize = 16;   // struct nlmsghdr
    public const int CnMsgHeaderSize = 20;   // struct cn_msg, without data
    public const int ProcEventSize = 40;     // struct proc_event: what, cpu, timestamp_ns, 24-byte union

    public const ushort NLMSG_NOOP = 1;
    public const ushort NLMSG_ERROR = 2;
    public const ushort NLMSG_DONE = 3;

    public const uint CN_IDX_PROC = 1;
    public const uint CN_VAL_PROC = 1;

    public const uint PROC_CN_MCAST_LISTEN = 1;

    /// <summary>
    /// The event types the daemon asks the kernel's filter (Linux 6.6+) to send: FORK, EXEC and EXIT
    /// make the notifications; UID (rare: setuid and friends) keeps each registration's si_uid current;
    /// COMM (rare: prctl PR_SET_NAME, writes to /proc/PID/comm) renames a process for NAME and REGEX
    /// subscriptions (an exec sends none: the new name is read from /proc when the EXEC is handled).
    /// </summary>
    public const uint SubscribedEvents =
        (uint)(ProcEventWhat.PROC_EVENT_FORK | ProcEventWhat.PROC_EVENT_EXEC | ProcEventWhat.PROC_EVENT_EXIT | ProcEventWhat.PROC_EVENT_UID
            | ProcEventWhat.PROC_EVENT_COMM);

    /// <summary>
    /// Builds the LISTEN request. With <paramref name="useEventFilter"/> the payload is
    /// struct proc_input { mcast_op; event_type } (8 bytes, Linux 6.6+); without it, the plain
    /// 4-byte enum proc_cn_mcast_op that every kernel accepts. Before 6.6 an 8-byte payload is
    /// silently ignored, so the caller must choose by kernel version.
    /// </summary>
    public static byte[] BuildListenRequest(bool useEventFilter, uint portId)
    {
        int payload = useEventFilter ? 8 : 4;
        var message = new byte[NlmsgHeaderSize + CnMsgHeaderSize + payload];
        var span = message.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span[0..], (uint)message.Length); // nlmsg_len
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], NLMSG_DONE);           // nlmsg_type
        BinaryPrimitives.WriteUInt32LittleEndian(span[12..], portId);              // nlmsg_pid
        var cn = span[NlmsgHeaderSize..];
        BinaryPrimitives.WriteUInt32LittleEndian(cn[0..], CN_IDX_PROC);
        BinaryPrimitives.WriteUInt32LittleEndian(cn[4..], CN_VAL_PROC);
        BinaryPrimitives.WriteUInt16LittleEndian(cn[16..], (ushort)payload);       // len
        var data = cn[CnMsgHeaderSize..];
        BinaryPrimitives.WriteUInt32LittleEndian(data[0..], PROC_CN_MCAST_LISTEN);
        if (useEventFilter)
            BinaryPrimitives.WriteUInt32LittleEndian(data[4..], SubscribedEvents);
        return message;
    }

    /// <summary>
    /// Parses every process event in one received datagram, calling <paramref name="sink"/> for each.
    /// Messages of other types or of other connectors are skipped; a truncated one ends the parse.
    /// </summary>
    public static int Parse<TSink>(ReadOnlySpan<byte> datagram, ref TSink sink) where TSink : IProcEventSink, allows ref struct
    {
        int count = 0;
        while (datagram.Length >= NlmsgHeaderSize)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(datagram);
            ushort type = BinaryPrimitives.ReadUInt16LittleEndian(datagram[4..]);
            if (length < NlmsgHeaderSize || length > datagram.Length)
                break;
            if (type == NLMSG_DONE && TryParseEvent(datagram[NlmsgHeaderSize..length], out var ev))
            {
                sink.Accept(in ev);
                count++;
            }
            datagram = datagram[Math.Min(datagram.Length, (length + 3) & ~3)..]; // NLMSG_ALIGN
        }
        return count;
    }

    private static bool TryParseEvent(ReadOnlySpan<byte> cn, out ProcEvent ev)
    {
        ev = default;
        if (cn.Length < CnMsgHeaderSize + ProcEventSize)
            return false;
        if (BinaryPrimitives.ReadUInt32LittleEndian(cn) != CN_IDX_PROC || BinaryPrimitives.ReadUInt32LittleEndian(cn[4..]) != CN_VAL_PROC)
            return false;
        uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(cn[8..]);
        var pe = cn[CnMsgHeaderSize..];
        var what = (ProcEventWhat)BinaryPrimitives.ReadUInt32LittleEndian(pe);
        uint cpu = BinaryPrimitives.ReadUInt32LittleEndian(pe[4..]);
        ulong timestamp = BinaryPrimitives.ReadUInt64LittleEndian(pe[8..]);
        var data = pe[16..];
        ev = what switch
        {
            // fork: parent_pid, parent_tgid, child_pid, child_tgid
            ProcEventWhat.PROC_EVENT_FORK => new ProcEvent(what, cpu, sequence, timestamp, I(data, 2), I(data, 3), I(data, 0), I(data, 1), 0),
            // exec: process_pid, process_tgid
            ProcEventWhat.PROC_EVENT_EXEC => new ProcEvent(what, cpu, sequence, timestamp, I(data, 0), I(data, 1), 0, 0, 0),
            // exit: process_pid, process_tgid, exit_code, exit_signal, parent_pid, parent_tgid
            ProcEventWhat.PROC_EVENT_EXIT => new ProcEvent(what, cpu, sequence, timestamp, I(data, 0), I(data, 1), I(data, 4), I(data, 5), I(data, 2)),
            // id: process_pid, process_tgid, ruid, euid
            ProcEventWhat.PROC_EVENT_UID => new ProcEvent(what, cpu, sequence, timestamp, I(data, 0), I(data, 1), 0, 0, 0, (uint)I(data, 2)),
            // comm: process_pid, process_tgid, comm[16]: the new name, kept (the task may be gone when it is handled)
            ProcEventWhat.PROC_EVENT_COMM => ProcEvent.Comm(cpu, sequence, timestamp, I(data, 0), I(data, 1), data.Slice(8, ProcEvent.TASK_COMM_LEN)),
            _ => new ProcEvent(what, cpu, sequence, timestamp, 0, 0, 0, 0, 0),
        };
        return true;
    }

    private static int I(ReadOnlySpan<byte> union, int index) => BinaryPrimitives.ReadInt32LittleEndian(union[(index * 4)..]);
}

/// <summary>Receives the events parsed out of a datagram.</summary>
public interface IProcEventSink
{
    void Accept(in ProcEvent ev);
}
