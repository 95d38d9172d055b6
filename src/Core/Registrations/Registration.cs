namespace Kmonitor.Registrations;

/// <summary>
/// One (open file, target task) pair: which events of the target to report, to which process, with
/// which signal. Mask, Signal and Monitor change only with both the file's lock and the bucket's lock
/// held, so a reader holding either sees them consistent.
/// </summary>
/// <remarks>
/// A daemon holds up to millions of these, so every byte counts (bench/RESULTS.md, issue 16): the
/// masks (7 event bits, checked at REGISTER), the signal (at most 64) and the flags are stored as
/// bytes, which the runtime packs together after the 4- and 8-byte fields.
/// </remarks>
public sealed class Registration(int target, int targetTgid, uint targetUid, DeviceFile file)
{
    public int Target { get; } = target;

    /// <summary>The target's thread group when it registered: tells a process from a thread after it is gone.</summary>
    public int TargetTgid { get; } = targetTgid;

    /// <summary>
    /// The target's real uid (si_uid): read at REGISTER, then kept current by the connector's UID
    /// events, so it is right even after the task has been reaped.
    /// </summary>
    public uint TargetUid { get; internal set; } = targetUid;

    /// <summary>When the registration was made (CLOCK_MONOTONIC ns, the clock of proc_event.timestamp_ns).</summary>
    public long CreatedAtNs { get; internal set; }

    /// <summary>When its mask last changed.</summary>
    public long ChangedAtNs { get; internal set; }

    /// <summary>The bits that apply to events that happened before <see cref="ChangedAtNs"/>.</summary>
    public int MaskBefore { get => _maskBefore; internal set => _maskBefore = checked((byte)value); }

    /// <summary>
    /// The mask that applies to an event stamped <paramref name="timestampNs"/>. Netlink events reach
    /// the dispatcher a little after they happen; an event from before a REGISTER must not be reported
    /// to it (the 2004 driver, called synchronously, never could), nor end it (a stale EXIT of an
    /// earlier process with the same pid).
    /// </summary>
    public int MaskAt(ulong timestampNs) =>
        (long)timestampNs >= ChangedAtNs ? Mask : (long)timestampNs >= CreatedAtNs ? MaskBefore : 0;

    public DeviceFile File { get; } = file;

    /// <summary>The real uid of the monitor that made it: what the per-uid limit counts.</summary>
    public uint OwnerUid { get; init; }

    /// <summary>The target's pid as the registering monitor named it (in its own pid namespace).</summary>
    public int TargetPidForMonitor { get; init; }

    /// <summary>
    /// The target's name for records (struct kmonitor_event's comm): read when a record first needs
    /// it and again at each EXEC, then kept, so an exit reports the name the task had. Under the dispatch lock only.
    /// </summary>
    public string? Comm { get; internal set; }

    public int Mask { get => _mask; internal set => _mask = checked((byte)value); }
    public int Signal { get => _signal; internal set => _signal = checked((byte)value); }
    public MonitorProcess Monitor { get; internal set; } = null!;

    /// <summary>Set once the registration has left the table; a later REGISTER makes a new one.</summary>
    public bool Removed { get => _removed; internal set => _removed = value; }

    /// <summary>Its index in the table's list for its target (kept by <see cref="RegistrationTable"/>, under the bucket's lock).</summary>
    internal int SlotInTarget;

    private byte _mask, _maskBefore, _signal, _exitDelivered;
    private bool _removed;

    /// <summary>
    /// Claims the right to send this registration's exit notifications. Exactly one caller gets true,
    /// whichever path (the netlink EXIT event or a REGISTER that found the target already dead) comes first.
    /// </summary>
    public bool TryClaimExit() => Interlocked.Exchange(ref _exitDelivered, (byte)1) == 0;

    public bool IsThreadTarget => Target != TargetTgid;

    /// <summary>For a process target: its pidfd, which says when the whole thread group is gone.</summary>
    public Exits.WatchedProcess? Process { get; internal set; }

    public override string ToString() => $"registration of target {Target} mask 0x{Mask:X2} signal {Signal} by {Monitor}";
}
