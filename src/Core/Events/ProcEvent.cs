using System.Runtime.InteropServices;

namespace Kmonitor.Events;

/// <summary>
/// One event of the netlink process connector (struct proc_event of linux/cn_proc.h), flattened:
/// the listener copies these into the ring as they arrive, and the dispatcher reads them.
/// TimestampNs is the kernel's ktime_get_ns() when the event happened (CLOCK_MONOTONIC).
/// </summary>
public readonly record struct ProcEvent(
    ProcEventWhat What,
    uint Cpu,
    uint Sequence,
    ulong TimestampNs,
    int Pid,
    int Tgid,
    int ParentPid,
    int ParentTgid,
    int ExitCode,
    uint RealUid = 0)
{
    public static ProcEvent Fork(int parentPid, int parentTgid, int childPid, int childTgid) =>
        new(ProcEventWhat.PROC_EVENT_FORK, 0, 0, 0, childPid, childTgid, parentPid, parentTgid, 0);

    public static ProcEvent Exec(int pid, int tgid) =>
        new(ProcEventWhat.PROC_EVENT_EXEC, 0, 0, 0, pid, tgid, 0, 0, 0);

    public static ProcEvent Exit(int pid, int tgid, int exitCode) =>
        new(ProcEventWhat.PROC_EVENT_EXIT, 0, 0, 0, pid, tgid, 0, 0, exitCode);

    /// <summary>TASK_COMM_LEN: the size of comm_proc_event's comm[], the name with its NUL.</summary>
    public const int TASK_COMM_LEN = 16;

    /// <summary>
    /// A rename (comm_proc_event): the new name rides in the four fields a COMM does not use
    /// (ParentPid, ParentTgid, ExitCode, RealUid: 16 bytes, comm[16] exactly), so that the ring's
    /// entries stay the size they are for the events that matter and the name is the one the kernel
    /// sent: by the time the event is handled the task may be gone from /proc.
    /// </summary>
    public static ProcEvent Comm(uint cpu, uint sequence, ulong timestampNs, int pid, int tgid, ReadOnlySpan<byte> comm)
    {
        Span<int> packed = stackalloc int[TASK_COMM_LEN / sizeof(int)];
        var bytes = MemoryMarshal.AsBytes(packed);
        bytes.Clear();
        comm[..Math.Min(comm.Length, TASK_COMM_LEN - 1)].CopyTo(bytes); // the last byte stays the NUL
        return new ProcEvent(ProcEventWhat.PROC_EVENT_COMM, cpu, sequence, timestampNs, pid, tgid, packed[0], packed[1], packed[2], (uint)packed[3]);
    }

    /// <summary>A COMM event's new name (its bytes up to the NUL) into <paramref name="destination"/>; returns its length.</summary>
    public int CopyComm(Span<byte> destination)
    {
        Span<int> packed = [ParentPid, ParentTgid, ExitCode, (int)RealUid];
        var bytes = MemoryMarshal.AsBytes(packed);
        int length = bytes.IndexOf((byte)0);
        if (length < 0)
            length = bytes.Length;
        bytes[..length].CopyTo(destination);
        return length;
    }

    /// <summary>The pidfd watcher's marker: a watched process has ended (the process rides beside it in the ring).</summary>
    public static ProcEvent ProcessGone(int tgid, long seenAtNs) =>
        new(ProcEventWhat.KMONITORD_PROCESS_GONE, 0, 0, (ulong)seenAtNs, tgid, tgid, 0, 0, 0);

    /// <summary>The pidfd watcher's marker: a monitor has ended (the monitor rides beside it).</summary>
    public static ProcEvent MonitorGone(int tgid, long seenAtNs) =>
        new(ProcEventWhat.KMONITORD_MONITOR_GONE, 0, 0, (ulong)seenAtNs, tgid, tgid, 0, 0, 0);

    /// <summary>SUBSCRIBE's, UNSUBSCRIBE's or a close's marker: what changes rides beside it.</summary>
    public static ProcEvent SubscriptionChange(long seenAtNs) =>
        new(ProcEventWhat.KMONITORD_SUBSCRIPTION_CHANGE, 0, 0, (ulong)seenAtNs, 0, 0, 0, 0, 0);

    /// <summary>REGISTER's marker: its target had already ended (what it took from the table rides beside it).</summary>
    public static ProcEvent EndedAtRegister(int pid, long seenAtNs) =>
        new(ProcEventWhat.KMONITORD_ENDED_AT_REGISTER, 0, 0, (ulong)seenAtNs, pid, pid, 0, 0, 0);
}

/// <summary>enum what of struct proc_event, under the kernel's names.</summary>
public enum ProcEventWhat : uint
{
    PROC_EVENT_NONE = 0x00000000,
    PROC_EVENT_FORK = 0x00000001,
    PROC_EVENT_EXEC = 0x00000002,
    PROC_EVENT_UID = 0x00000004,
    PROC_EVENT_GID = 0x00000040,
    PROC_EVENT_SID = 0x00000080,
    PROC_EVENT_PTRACE = 0x00000100,
    PROC_EVENT_COMM = 0x00000200,
    PROC_EVENT_NONZERO_EXIT = 0x20000000,
    PROC_EVENT_COREDUMP = 0x40000000,
    PROC_EVENT_EXIT = 0x80000000,

    /// <summary>
    /// Not the kernel's: posted into the ring by the pidfd watcher when a watched process has
    /// exited, so an exit whose netlink event was lost is still reported, in order with the rest.
    /// </summary>
    KMONITORD_PROCESS_GONE = 0x00010000,

    /// <summary>Not the kernel's: posted by the pidfd watcher when a monitor has exited, so the dispatcher drops it.</summary>
    KMONITORD_MONITOR_GONE = 0x00020000,

    /// <summary>
    /// Not the kernel's: posted by REGISTER when its target had already ended (a zombie), so the
    /// dispatcher, the one thread that sends notifications, sends its exit notifications.
    /// </summary>
    KMONITORD_ENDED_AT_REGISTER = 0x00040000,

    /// <summary>
    /// Not the kernel's: posted by SUBSCRIBE (install, answered once installed), UNSUBSCRIBE and close
    /// (remove), so subscriptions change under the dispatch lock, in order with the events.
    /// </summary>
    KMONITORD_SUBSCRIPTION_CHANGE = 0x00080000,
}
