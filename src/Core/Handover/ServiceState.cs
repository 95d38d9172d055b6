namespace Kmonitor.Handover;

/// <summary>
/// What the service holds that a restarted daemon must have again: every open file, by the handle
/// the kernel knows it by, with its registrations and its queued records. Processes are named by pid
/// and start time, so the next instance reopens pidfds only for the very same processes.
/// </summary>
public sealed record ServiceState(ulong LastHandle, List<FileState> Files);

/// <param name="Records">The queued records, 64 bytes each, oldest first, with their sequence numbers.</param>
/// <param name="NextSeq">The sequence number the next record gets: readers see no gap across a restart.</param>
public sealed record FileState(ulong Handle, uint LastSubscriptionId, List<RegistrationState> Registrations, byte[] Records, uint NextSeq, uint Dropped);

/// <param name="TargetStart">Field 22 of /proc/TARGET/stat when the state was written; 0 when it was already gone.</param>
/// <param name="CreatedAtNs">CLOCK_MONOTONIC, the netlink events' clock: the next instance matches the events queued meanwhile by it.</param>
public sealed record RegistrationState(
    int Target, int TargetTgid, ulong TargetStart, uint TargetUid,
    int Mask, int MaskBefore, int Signal, long CreatedAtNs, long ChangedAtNs,
    uint OwnerUid, int TargetPidForMonitor, string? Comm,
    int MonitorTgid, ulong MonitorStart, int MonitorNamespaceDepth, ulong MonitorPidNamespace);
