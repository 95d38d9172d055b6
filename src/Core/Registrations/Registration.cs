namespace Kmonitor.Registrations;

/// <summary>
/// One (open file, target task) pair: which events of the target to report, to which process, with
/// which signal. Mask, Signal and Monitor change only with both the file's lock and the bucket's lock
/// held, so a reader holding either sees them consistent.
/// </summary>
public sealed class Registration(int target, int targetTgid, uint targetUid, DeviceFile file)
{
    public int Target { get; } = target;

    /// <summary>The target's thread group when it registered: tells a process from a thread after it is gone.</summary>
    public int TargetTgid { get; } = targetTgid;

    /// <summary>The target's real uid at REGISTER: si_uid when /proc no longer has the task.</summary>
    public uint TargetUid { get; } = targetUid;

    public DeviceFile File { get; } = file;

    public int Mask { get; internal set; }
    public int Signal { get; internal set; }
    public MonitorProcess Monitor { get; internal set; } = null!;

    /// <summary>Set once the registration has left the table; a later REGISTER makes a new one.</summary>
    public bool Removed { get; internal set; }

    private int _exitDelivered;

    /// <summary>
    /// Claims the right to send this registration's exit notifications. Exactly one caller gets true,
    /// whichever path (the netlink EXIT event or a REGISTER that found the target already dead) comes first.
    /// </summary>
    public bool TryClaimExit() => Interlocked.Exchange(ref _exitDelivered, 1) == 0;

    public bool IsThreadTarget => Target != TargetTgid;

    public override string ToString() => $"registration of target {Target} mask 0x{Mask:X2} signal {Signal} by {Monitor}";
}
