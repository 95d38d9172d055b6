namespace Kmonitor.Handover;

/// <summary>
/// What the service holds that a restarted daemon must have again: every open file, by the handle
/// the kernel knows it by, with its registrations and its queued records. Processes are named by pid
/// and start time, so the next instance reopens pidfds only for the very same processes.
/// </summary>
public sealed record ServiceState(ulong LastHandle, List<FileState> Files);

/// <param name="Records">The queued records, 64 bytes each, oldest first, with their sequence numbers.</param>
/// <param name="NextSeq">The sequence number the next record gets: readers see no gap across a restart.</param>
/// <param name="Subscriptions">Only those SUBSCRIBE has answered: an id the monitor never saw is not its to keep.</param>
/// <param name="PollHandle">The kernel's handle of a poll(2) waiting on the file (FUSE_POLL_SCHEDULE_NOTIFY), to be notified when a record comes.</param>
public sealed record FileState(ulong Handle, uint LastSubscriptionId, List<RegistrationState> Registrations, byte[] Records, uint NextSeq, uint Dropped,
    List<SubscriptionState> Subscriptions, ulong? PollHandle);

/// <param name="TargetStart">Field 22 of /proc/TARGET/stat when the state was written; 0 when it was already gone.</param>
/// <param name="CreatedAtNs">CLOCK_MONOTONIC, the netlink events' clock: the next instance matches the events queued meanwhile by it.</param>
public sealed record RegistrationState(
    int Target, int TargetTgid, ulong TargetStart, uint TargetUid,
    int Mask, int MaskBefore, int Signal, long CreatedAtNs, long ChangedAtNs,
    uint OwnerUid, int TargetPidForMonitor, string? Comm,
    int MonitorTgid, ulong MonitorStart, int MonitorNamespaceDepth, ulong MonitorPidNamespace);

/// <summary>
/// One SUBSCRIBE as its request had it (so the next instance decodes it as SUBSCRIBE did), with the
/// owner's rights and identity as SUBSCRIBE read them: nothing is read from the owner again.
/// </summary>
/// <param name="Type">The event bits, KMONITOR_PROCESS_EXISTING included as asked (it is not acted on again).</param>
/// <param name="Pattern">NAME: the name; REGEX: the expression as the monitor wrote it; otherwise null.</param>
/// <param name="Root">TREE: the root as the subscriber names it; <paramref name="RootPid"/> as the daemon does.</param>
/// <param name="RootStart">Field 22 of /proc/ROOT/stat when the state was written; 0 when the root was already gone.</param>
/// <param name="StartNs">CLOCK_MONOTONIC of SUBSCRIBE: the events queued in the gap are all later, so they count.</param>
public sealed record SubscriptionState(
    uint Id, uint Scope, uint Type, uint Flags, int Signal, string? Pattern,
    int Root, int RootPid, ulong RootStart, ulong StartNs,
    uint RealUid, uint EffectiveUid, bool Everyone,
    int MonitorTgid, ulong MonitorStart, int MonitorNamespaceDepth, ulong MonitorPidNamespace);
