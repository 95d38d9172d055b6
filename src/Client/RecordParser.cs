using System.Runtime.InteropServices;
using System.Text;
using Kmonitor.Client.Interop;

namespace Kmonitor.Client;

/// <summary>Turns the bytes read(2) returned (whole 64-byte records) into events.</summary>
internal static class RecordParser
{
    public const int RecordSize = 64;

    /// <summary>Appends the records of <paramref name="bytes"/> (a multiple of 64 bytes) to <paramref name="events"/>.</summary>
    public static void Parse(ReadOnlySpan<byte> bytes, ICollection<ProcessEvent> events)
    {
        if (bytes.Length % RecordSize != 0)
            throw new KmonitorException(Libc.EPROTO, $"the device returned {bytes.Length} bytes, not whole {RecordSize}-byte records");
        for (int offset = 0; offset < bytes.Length; offset += RecordSize)
            events.Add(Decode(MemoryMarshal.Read<kmonitor_event>(bytes.Slice(offset, RecordSize))));
    }

    public static ProcessEvent Decode(in kmonitor_event record)
    {
        if (record.size != RecordSize)
            throw new KmonitorException(Libc.EPROTO, $"a record of {record.size} bytes: this library reads {RecordSize}-byte records");
        var kind = KindOf(record.type);
        bool lost = kind == ProcessEventKind.Lost;
        return new ProcessEvent(kind, record.seq, record.time_ns, record.pid, record.tgid, record.ppid, record.uid,
            lost ? 0 : record.status, record.watch, NameOf(record.comm), lost ? record.status : 0);
    }

    private static ProcessEventKind KindOf(ushort type) => type switch
    {
        KmonitorAbi.KMONITOR_THREAD_CREATE => ProcessEventKind.ThreadCreate,
        KmonitorAbi.KMONITOR_THREAD_ABORT => ProcessEventKind.ThreadAbort,
        KmonitorAbi.KMONITOR_THREAD_EXIT => ProcessEventKind.ThreadExit,
        KmonitorAbi.KMONITOR_PROCESS_FORK => ProcessEventKind.ProcessFork,
        KmonitorAbi.KMONITOR_PROCESS_ABORT => ProcessEventKind.ProcessAbort,
        KmonitorAbi.KMONITOR_PROCESS_EXEC => ProcessEventKind.ProcessExec,
        KmonitorAbi.KMONITOR_PROCESS_EXIT => ProcessEventKind.ProcessExit,
        KmonitorAbi.KMONITOR_PROCESS_EXISTING => ProcessEventKind.Existing,
        KmonitorAbi.KMONITOR_EVENT_LOST => ProcessEventKind.Lost,
        _ => throw new KmonitorException(Libc.EPROTO, $"a record of unknown type 0x{type:X}: the daemon is newer than this library"),
    };

    private static string NameOf(in kmonitor_event.comm_bytes comm)
    {
        ReadOnlySpan<byte> bytes = comm;
        int end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }
}
