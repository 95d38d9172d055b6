using System.Runtime.InteropServices;
using System.Text;

namespace Kmonitor.Abi;

/// <summary>
/// What include/linux/kmonitor.h adds to the 2004 ABI, under its own names: records read from the
/// file (struct kmonitor_event), and SUBSCRIBE / UNSUBSCRIBE (struct kmonitor_subscription).
/// </summary>
public static class SubscriptionAbi
{
    public const int KMONITOR_PROCESS_EXISTING = 0x80;
    public const int KMONITOR_EVENT_LOST = 0x8000;

    public const uint KMONITOR_SCOPE_TREE = 1;
    public const uint KMONITOR_SCOPE_NAME = 2;
    public const uint KMONITOR_SCOPE_REGEX = 3;
    public const uint KMONITOR_SCOPE_ALL = 4;

    public const uint KMONITOR_MATCH_CMDLINE = 0x1;

    /// <summary>_IOWR(0xDE, 3, struct kmonitor_subscription).</summary>
    public const uint KMONITOR_IOWR_SUBSCRIBE = 0xC100DE03;

    /// <summary>_IOW(0xDE, 4, __u32).</summary>
    public const uint KMONITOR_IOW_UNSUBSCRIBE = 0x4004DE04;

    /// <summary>The bits a subscription's <c>type</c> may hold: the 2004 events and EXISTING.</summary>
    public const int SubscriptionEvents = KmonitorAbi.AllEvents | KMONITOR_PROCESS_EXISTING;

    /// <summary>REGISTER or SUBSCRIBE with this signal queues records on the file instead.</summary>
    public const int RecordsInsteadOfSignal = 0;
}

/// <summary>struct kmonitor_event: one record, as read(2) returns it (64 bytes, native byte order).</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KmonitorEventRecord
{
    public const int Size = 64;
    public const int CommBytes = 16;

    public ushort size;
    public ushort type;
    public uint seq;
    public ulong time_ns;
    public int pid;
    public int tgid;
    public int ppid;
    public uint uid;
    public int status;
    public uint watch;
    public CommBuffer comm;
    public ulong reserved;

    [System.Runtime.CompilerServices.InlineArray(CommBytes)]
    public struct CommBuffer
    {
        private byte _first;
    }

    /// <summary>The name, up to its NUL.</summary>
    public readonly string Comm
    {
        get
        {
            ReadOnlySpan<byte> bytes = comm;
            int end = bytes.IndexOf((byte)0);
            return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
        }
    }

    /// <summary>Sets the name, cut to 15 bytes and NUL-terminated, as the kernel keeps comm.</summary>
    public void SetComm(ReadOnlySpan<byte> name)
    {
        Span<byte> bytes = comm;
        bytes.Clear();
        int end = name.IndexOf((byte)0);
        if (end >= 0)
            name = name[..end];
        name[..Math.Min(name.Length, CommBytes - 1)].CopyTo(bytes);
    }

    public static KmonitorEventRecord Read(ReadOnlySpan<byte> bytes) => MemoryMarshal.Read<KmonitorEventRecord>(bytes);

    public readonly void Write(Span<byte> bytes) => MemoryMarshal.Write(bytes, in this);
}

/// <summary>struct kmonitor_subscription: SUBSCRIBE's argument, and its reply with <c>id</c> filled in (256 bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = Size)]
public struct KmonitorSubscription
{
    public const int Size = 256;
    public const int PatternBytes = 232;

    public uint scope;
    public uint type;
    public int pid;
    public int signal;
    public uint flags;
    public uint id;
    public PatternBuffer pattern;

    [System.Runtime.CompilerServices.InlineArray(PatternBytes)]
    public struct PatternBuffer
    {
        private byte _first;
    }

    /// <summary>The pattern up to its NUL, or null when its 232 bytes hold no NUL.</summary>
    public readonly string? Pattern
    {
        get
        {
            ReadOnlySpan<byte> bytes = pattern;
            int end = bytes.IndexOf((byte)0);
            return end < 0 ? null : Encoding.UTF8.GetString(bytes[..end]);
        }
    }

    /// <summary>Sets the pattern, NUL-terminated; throws when it does not fit.</summary>
    public void SetPattern(string text)
    {
        Span<byte> bytes = pattern;
        bytes.Clear();
        Encoding.UTF8.GetBytes(text, bytes[..(PatternBytes - 1)]); // throws ArgumentException when too long
    }

    public static KmonitorSubscription Read(ReadOnlySpan<byte> bytes) => MemoryMarshal.Read<KmonitorSubscription>(bytes);

    public readonly void Write(Span<byte> bytes) => MemoryMarshal.Write(bytes, in this);
}
