using Kmonitor.Abi;

namespace Kmonitor.Subscriptions;

/// <summary>
/// One SUBSCRIBE of one open file: what it asked for, whose it is, and from when it counts. Its
/// members are not kept here but on each process the engine tracks (<see cref="TrackedProcess"/>),
/// so a fork, which inherits them, costs no walk over subscriptions.
/// </summary>
/// <param name="id">The id SUBSCRIBE returned: > 0, unique within the file.</param>
/// <param name="spec">What was asked, decoded by <see cref="SubscriptionRequest"/>.</param>
/// <param name="rights">Whom the owner may watch.</param>
/// <param name="file">The open file it belongs to: <see cref="SubscriptionEngine.RemoveAll"/> drops by it.</param>
/// <param name="monitor">Who is signalled (for a signal subscription); opaque to the engine.</param>
/// <param name="rootPid">TREE: the root as the daemon's pid namespace names it (the spec has it as the caller does).</param>
public sealed class Subscription(uint id, SubscriptionSpec spec, WatchRights rights, object file, object? monitor = null, int? rootPid = null)
{
    public uint Id { get; } = id;

    public SubscriptionSpec Spec { get; } = spec;

    public WatchRights Rights { get; } = rights;

    public object File { get; } = file;

    /// <summary>Who is signalled; the owner of the file may change it, the engine never reads it.</summary>
    public object? Monitor { get; set; } = monitor;

    public int RootPid { get; } = rootPid ?? spec.Root;

    public int Signal => Spec.Signal;

    public uint Scope => Spec.Scope;

    /// <summary>
    /// CLOCK_MONOTONIC ns of SUBSCRIBE, read before its /proc scan: events stamped earlier are already
    /// in what the scan saw, so applying them again could only undo it (the root's own FORK, handled
    /// late, would make the root's parent a member).
    /// </summary>
    public ulong StartNs { get; internal set; }

    private volatile bool _cancelled;

    /// <summary>
    /// Set by UNSUBSCRIBE, a close or the subscriber's exit, on their own thread, before the engine
    /// removes it on the dispatcher's: from then on nothing more is sent for it.
    /// </summary>
    public bool Cancelled => _cancelled;

    public void Cancel() => _cancelled = true;

    /// <summary>Set once the engine has installed it (and cleared when removed).</summary>
    public bool Installed { get; internal set; }

    /// <summary>Whether an event stamped <paramref name="timestampNs"/> with <paramref name="bit"/> is for this subscription.</summary>
    internal bool Wants(int bit, ulong timestampNs) => (Spec.Events & bit) != 0 && timestampNs >= StartNs;

    /// <summary>NAME, or REGEX on the name: a COMM event changes whether a process matches.</summary>
    internal bool MatchesComm => Spec.Scope == SubscriptionAbi.KMONITOR_SCOPE_NAME
                                 || (Spec.Scope == SubscriptionAbi.KMONITOR_SCOPE_REGEX && !Spec.MatchCommandLine);

    /// <summary>NAME or REGEX: membership decided by what the process is called at its last exec.</summary>
    internal bool IsByName => Spec.Scope is SubscriptionAbi.KMONITOR_SCOPE_NAME or SubscriptionAbi.KMONITOR_SCOPE_REGEX;

    public override string ToString() => Spec.Scope switch
    {
        SubscriptionAbi.KMONITOR_SCOPE_TREE => $"subscription {Id} (tree {RootPid})",
        SubscriptionAbi.KMONITOR_SCOPE_NAME => $"subscription {Id} (name '{Spec.Name}')",
        SubscriptionAbi.KMONITOR_SCOPE_REGEX => $"subscription {Id} (regex '{Spec.Pattern}'{(Spec.MatchCommandLine ? " on the command line" : "")})",
        _ => $"subscription {Id} (all)",
    };
}
