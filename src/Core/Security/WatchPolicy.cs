using Kmonitor.Procfs;
using static Kmonitor.Interop.Capabilities;

namespace Kmonitor.Security;

/// <summary>Who may watch whom: checked at REGISTER with the calling thread's credentials.</summary>
public enum WatchPolicyKind
{
    /// <summary>
    /// The default: a caller may watch a target whose real uid is its own real or effective uid, or
    /// any target when it is root or holds CAP_KILL or CAP_SYS_PTRACE in the initial user namespace.
    /// </summary>
    Owner,

    /// <summary>The 2004 behaviour: anyone who can open the device may watch anything.</summary>
    Open,
}

public static class WatchPolicy
{
    /// <summary>
    /// Whether <paramref name="caller"/> may watch a task whose real uid is <paramref name="targetUid"/>.
    /// Uids are as the daemon sees them (the initial user namespace), so a container's root is not root
    /// here; capabilities only count when the caller is in the initial user namespace. That costs a
    /// look at /proc, so <paramref name="callerInInitialUserNamespace"/> is asked only when it decides.
    /// </summary>
    public static bool MayWatch(WatchPolicyKind policy, in ProcTaskStatus caller, Func<bool> callerInInitialUserNamespace, uint targetUid) =>
        MayWatch(policy, caller, static ask => ask(), callerInInitialUserNamespace, targetUid);

    /// <summary>The same, with the question's state passed beside it, so REGISTER allocates no closure.</summary>
    public static bool MayWatch<TState>(WatchPolicyKind policy, in ProcTaskStatus caller, Func<TState, bool> callerInInitialUserNamespace, TState state, uint targetUid)
    {
        if (policy == WatchPolicyKind.Open)
            return true;
        if (caller.RealUid == 0 || caller.EffectiveUid == 0)
            return true;
        if (targetUid == caller.RealUid || targetUid == caller.EffectiveUid)
            return true;
        return IsPrivileged(caller, callerInInitialUserNamespace, state);
    }

    /// <summary>
    /// Whether <paramref name="caller"/> may watch every task, whatever its uid: what a subscription
    /// decides once at SUBSCRIBE, so that the uid test is all that is left per process.
    /// </summary>
    public static bool MayWatchEveryone(WatchPolicyKind policy, in ProcTaskStatus caller, Func<bool> callerInInitialUserNamespace) =>
        policy == WatchPolicyKind.Open || caller.RealUid == 0 || caller.EffectiveUid == 0
        || IsPrivileged(caller, static ask => ask(), callerInInitialUserNamespace);

    private static bool IsPrivileged<TState>(in ProcTaskStatus caller, Func<TState, bool> callerInInitialUserNamespace, TState state)
    {
        const ulong privileged = (1UL << CAP_KILL) | (1UL << CAP_SYS_PTRACE);
        return (caller.EffectiveCaps & privileged) != 0 && callerInInitialUserNamespace(state);
    }
}
