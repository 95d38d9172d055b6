using Kmonitor.Procfs;
using Kmonitor.Security;

namespace Kmonitor.Subscriptions;

/// <summary>
/// Whom a subscription's owner may watch, taken from its credentials at SUBSCRIBE (the
/// <see cref="WatchPolicy"/>), so that deciding for one process is two comparisons, cheap enough for
/// every record. A NAME, REGEX or ALL subscription skips what this refuses; every record obeys it.
/// </summary>
/// <param name="RealUid">The owner's real uid.</param>
/// <param name="EffectiveUid">The owner's effective uid.</param>
/// <param name="Everyone">Whether it may watch every process (the open policy, root, CAP_KILL or CAP_SYS_PTRACE).</param>
public readonly record struct WatchRights(uint RealUid, uint EffectiveUid, bool Everyone)
{
    /// <summary>Rights that refuse nothing (the open policy).</summary>
    public static WatchRights Unlimited { get; } = new(0, 0, true);

    /// <summary>The rights of a caller read from /proc at SUBSCRIBE.</summary>
    public static WatchRights Of(WatchPolicyKind policy, in ProcTaskStatus caller, Func<bool> callerInInitialUserNamespace) =>
        new(caller.RealUid, caller.EffectiveUid, WatchPolicy.MayWatchEveryone(policy, caller, callerInInitialUserNamespace));

    /// <summary>Whether a process whose real uid is <paramref name="uid"/> may be watched: as <see cref="WatchPolicy.MayWatch"/> decides.</summary>
    public bool Allows(uint uid) => Everyone || uid == RealUid || uid == EffectiveUid;
}
