using Kmonitor.Interop;
using Kmonitor.Procfs;
using Kmonitor.Security;

namespace Kmonitor.Tests.Unit;

public class WatchPolicyTests
{
    private static ProcTaskStatus Caller(uint uid, uint euid, ulong caps = 0) => new(100, uid, 'S', 1, euid, caps);

    [Theory]
    [InlineData(1000u, 1000u, 1000u, true)]    // its own process
    [InlineData(1000u, 2000u, 2000u, true)]    // its effective uid's
    [InlineData(1000u, 1000u, 2000u, false)]   // someone else's
    [InlineData(0u, 0u, 2000u, true)]          // root
    [InlineData(1000u, 0u, 2000u, true)]       // effective root (setuid)
    public void Owner_policy_lets_a_user_watch_its_own_processes(uint uid, uint euid, uint targetUid, bool allowed) =>
        Assert.Equal(allowed, WatchPolicy.MayWatch(WatchPolicyKind.Owner, Caller(uid, euid), () => true, targetUid));

    [Theory]
    [InlineData(Capabilities.CAP_KILL)]
    [InlineData(Capabilities.CAP_SYS_PTRACE)]
    public void CAP_KILL_or_CAP_SYS_PTRACE_count_only_in_the_initial_user_namespace(int capability)
    {
        var caller = Caller(1000, 1000, 1UL << capability);
        Assert.True(WatchPolicy.MayWatch(WatchPolicyKind.Owner, caller, callerInInitialUserNamespace: () => true, targetUid: 0));
        Assert.False(WatchPolicy.MayWatch(WatchPolicyKind.Owner, caller, callerInInitialUserNamespace: () => false, targetUid: 0));
    }

    [Fact]
    public void Other_capabilities_do_not_count() =>
        Assert.False(WatchPolicy.MayWatch(WatchPolicyKind.Owner, Caller(1000, 1000, 1UL << 21 /* CAP_SYS_ADMIN */), () => true, 0));

    [Fact]
    public void Open_policy_lets_anyone_watch_anything() =>
        Assert.True(WatchPolicy.MayWatch(WatchPolicyKind.Open, Caller(1000, 1000), () => false, 0));

    [Fact]
    public void The_user_namespace_is_looked_up_only_when_it_decides()
    {
        bool asked = false;
        bool Ask() { asked = true; return true; }
        Assert.True(WatchPolicy.MayWatch(WatchPolicyKind.Owner, Caller(1000, 1000), Ask, 1000));
        Assert.False(WatchPolicy.MayWatch(WatchPolicyKind.Owner, Caller(1000, 1000), Ask, 2000)); // no capability to weigh
        Assert.False(asked);
        Assert.True(WatchPolicy.MayWatch(WatchPolicyKind.Owner, Caller(1000, 1000, 1UL << Capabilities.CAP_KILL), Ask, 2000));
        Assert.True(asked);
    }
}
