using System.Runtime.InteropServices;

namespace Kmonitor.Client.Interop;

/// <summary>
/// The constants of include/linux/kmonitor.h under their own names. Defined again here (not taken
/// from Kmonitor.Core) because this library is what third parties take, without the daemon;
/// HeaderAgreementTests holds this copy and the daemon's to include/linux/kmonitor.h.
/// </summary>
internal static class KmonitorAbi
{
    public const uint KMONITOR_IOW_REGISTER = 0x400CDE01;
    public const uint KMONITOR_IOW_DEREGISTER = 0x400CDE02;
    public const uint KMONITOR_IOWR_SUBSCRIBE = 0xC100DE03;
    public const uint KMONITOR_IOW_UNSUBSCRIBE = 0x4004DE04;

    public const int KMONITOR_THREAD_CREATE = 0x01;
    public const int KMONITOR_THREAD_ABORT = 0x02;
    public const int KMONITOR_THREAD_EXIT = 0x04;
    public const int KMONITOR_PROCESS_FORK = 0x08;
    public const int KMONITOR_PROCESS_ABORT = 0x10;
    public const int KMONITOR_PROCESS_EXEC = 0x20;
    public const int KMONITOR_PROCESS_EXIT = 0x40;
    public const int KMONITOR_PROCESS_EXISTING = 0x80;
    public const int KMONITOR_EVENT_LOST = 0x8000;

    public const uint KMONITOR_SCOPE_TREE = 1;
    public const uint KMONITOR_SCOPE_NAME = 2;
    public const uint KMONITOR_SCOPE_REGEX = 3;
    public const uint KMONITOR_SCOPE_ALL = 4;

    public const uint KMONITOR_MATCH_CMDLINE = 0x1;
}

/// <summary>struct kmonitor_cmd { pid_t pid; int type; int signal; }: 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct kmonitor_cmd
{
    public int pid;
    public int type;
    public int signal;
}

/// <summary>struct kmonitor_event: one record as read(2) returns it, 64 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Size = 64)]
internal struct kmonitor_event
{
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
    public comm_bytes comm;
    public ulong reserved;

    [System.Runtime.CompilerServices.InlineArray(16)]
    public struct comm_bytes
    {
        private byte _first;
    }
}

/// <summary>struct kmonitor_subscription: SUBSCRIBE's argument and reply, 256 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Size = 256)]
internal struct kmonitor_subscription
{
    public uint scope;
    public uint type;
    public int pid;
    public int signal;
    public uint flags;
    public uint id;
    public pattern_bytes pattern;

    [System.Runtime.CompilerServices.InlineArray(232)]
    public struct pattern_bytes
    {
        private byte _first;
    }
}
