using System.Runtime.InteropServices;

namespace Kmonitor.Abi;

/// <summary>
/// The 2004 ABI of include/linux/kmonitor.h, under its own names: the two ioctls and the
/// event bits that make up the <c>type</c> mask of <see cref="KmonitorCmd"/>.
/// </summary>
public static class KmonitorAbi
{
    /// <summary>_IOW(0xDE, 1, struct kmonitor_cmd).</summary>
    public const uint KMONITOR_IOW_REGISTER = 0x400CDE01;

    /// <summary>_IOW(0xDE, 2, struct kmonitor_cmd).</summary>
    public const uint KMONITOR_IOW_DEREGISTER = 0x400CDE02;

    public const int KMONITOR_THREAD_CREATE = 0x01;
    public const int KMONITOR_THREAD_ABORT = 0x02;
    public const int KMONITOR_THREAD_EXIT = 0x04;
    public const int KMONITOR_PROCESS_FORK = 0x08;
    public const int KMONITOR_PROCESS_ABORT = 0x10;
    public const int KMONITOR_PROCESS_EXEC = 0x20;
    public const int KMONITOR_PROCESS_EXIT = 0x40;

    /// <summary>Every bit the original header defines; a mask with any other bit is EINVAL.</summary>
    public const int AllEvents = 0x7F;

    /// <summary>The bits that mean "tell me when this task is gone".</summary>
    public const int ExitEvents = KMONITOR_THREAD_ABORT | KMONITOR_THREAD_EXIT | KMONITOR_PROCESS_ABORT | KMONITOR_PROCESS_EXIT;

    /// <summary>Signals a registration may ask for: the kernel's 1.._NSIG (64).</summary>
    public const int MinSignal = 1;
    public const int MaxSignal = 64;

    /// <summary>The ABI's name of one event bit, for logs and tests.</summary>
    public static string EventName(int bit) => bit switch
    {
        KMONITOR_THREAD_CREATE => nameof(KMONITOR_THREAD_CREATE),
        KMONITOR_THREAD_ABORT => nameof(KMONITOR_THREAD_ABORT),
        KMONITOR_THREAD_EXIT => nameof(KMONITOR_THREAD_EXIT),
        KMONITOR_PROCESS_FORK => nameof(KMONITOR_PROCESS_FORK),
        KMONITOR_PROCESS_ABORT => nameof(KMONITOR_PROCESS_ABORT),
        KMONITOR_PROCESS_EXEC => nameof(KMONITOR_PROCESS_EXEC),
        KMONITOR_PROCESS_EXIT => nameof(KMONITOR_PROCESS_EXIT),
        _ => $"0x{bit:X}",
    };
}

/// <summary>struct kmonitor_cmd { pid_t pid; int type; int signal; } — 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public readonly record struct KmonitorCmd(int Pid, int Type, int Signal)
{
    public const int Size = 12;

    public static KmonitorCmd Read(ReadOnlySpan<byte> bytes) => MemoryMarshal.Read<KmonitorCmd>(bytes);
}
