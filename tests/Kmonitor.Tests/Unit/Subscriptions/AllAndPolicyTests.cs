using Kmonitor.Subscriptions;
using static Kmonitor.Abi.KmonitorAbi;
using static Kmonitor.Abi.SubscriptionAbi;

namespace Kmonitor.Tests.Unit.Subscriptions;

public class AllAndPolicyTests
{
    private const int Mine = SubscriptionWorld.Base, Roots = Mine + 1, Child = Mine + 2;
    private const int Everything = AllEvents;
    private static readonly WatchRights User = new(1000, 1000, Everyone: false);

    [Fact]
    public void ALL_reports_every_process_event_with_the_name_kept_to_the_exit()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Mine, 1, "bash");
        w.Proc.Process(Roots, 1, "cron");
        var all = w.Subscribe(KMONITOR_SCOPE_ALL, Everything | KMONITOR_PROCESS_EXISTING);
        w.Fork(Mine, Child);
        w.Proc.Process(Child, Mine, "bash");
        w.Proc.Exec(Child, "true");
        w.Exec(Child);
        w.Proc.Gone(Child);
        w.Exit(Child, parent: Mine);

        Assert.Equal([(KMONITOR_PROCESS_EXISTING, Mine), (KMONITOR_PROCESS_EXISTING, Roots), (KMONITOR_PROCESS_FORK, Child),
                      (KMONITOR_PROCESS_EXEC, Child), (KMONITOR_PROCESS_EXIT, Child)], w.Sink.Bits(all));
        Assert.Equal(["bash", "cron", "bash", "true", "true"], w.Sink.To(all).Select(e => e.Comm));
    }

    [Fact]
    public void ALL_only_sends_the_bits_asked_for()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Mine, 1, "bash");
        var exits = w.Subscribe(KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXIT);
        w.Fork(Mine, Child);
        w.Exec(Child);
        w.Exit(Child, parent: Mine);
        Assert.Equal([(KMONITOR_PROCESS_EXIT, Child)], w.Sink.Bits(exits));
    }

    [Fact]
    public void NAME_REGEX_and_ALL_silently_skip_the_processes_the_owner_may_not_watch()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Mine, 1, "sleep", uid: 1000);
        w.Proc.Process(Roots, 1, "sleep", uid: 0);
        var name = w.Subscribe(KMONITOR_SCOPE_NAME, Everything | KMONITOR_PROCESS_EXISTING, pattern: "sleep", rights: User);
        var regex = w.Subscribe(KMONITOR_SCOPE_REGEX, Everything | KMONITOR_PROCESS_EXISTING, pattern: "^sl", rights: User);
        var all = w.Subscribe(KMONITOR_SCOPE_ALL, Everything | KMONITOR_PROCESS_EXISTING, rights: User);
        w.Fork(Roots, Child);
        w.Exit(Roots);
        w.Exit(Mine);

        foreach (var s in new[] { name, regex, all })
            Assert.Equal([(KMONITOR_PROCESS_EXISTING, Mine), (KMONITOR_PROCESS_EXIT, Mine)], w.Sink.Bits(s));
    }

    [Fact]
    public void A_uid_change_decides_again()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Roots, 1, "login", uid: 0);
        w.Proc.Process(Mine, 1, "login", uid: 1000);
        var logins = w.Subscribe(KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_FORK, pattern: "login", rights: User);
        w.Fork(Roots, Child);          // root's: skipped
        w.Uid(Roots, 1000);            // setuid(1000): now the owner's
        w.Fork(Roots, Child + 1);
        w.Uid(Mine, 0);                // and this one is root's now
        w.Fork(Mine, Child + 2);

        Assert.Equal([(KMONITOR_PROCESS_FORK, Child + 1)], w.Sink.Bits(logins));
        Assert.Equal(1000u, w.Sink.To(logins)[0].Uid);
    }

    [Fact]
    public void A_privileged_owner_sees_everyone()
    {
        var w = new SubscriptionWorld();
        w.Proc.Process(Roots, 1, "cron", uid: 0);
        var all = w.Subscribe(KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXISTING, rights: User with { Everyone = true });
        Assert.Equal([(KMONITOR_PROCESS_EXISTING, Roots)], w.Sink.Bits(all));
    }

    [Theory]
    [InlineData(1000u, 1000u, 0ul, true)]     // a user: its own processes only
    [InlineData(1000u, 0u, 0ul, false)]       // setuid-root caller: everyone (decided below)
    [InlineData(0u, 0u, 0ul, false)]          // root
    [InlineData(1000u, 1000u, 1ul << 5, false)] // CAP_KILL in the initial user namespace
    public void Rights_follow_the_watch_policy(uint realUid, uint effectiveUid, ulong caps, bool limited)
    {
        var caller = new Kmonitor.Procfs.ProcTaskStatus(1, realUid, 'S', 1, effectiveUid, caps);
        var rights = WatchRights.Of(Kmonitor.Security.WatchPolicyKind.Owner, caller, () => true);
        Assert.Equal(!limited, rights.Everyone);
        Assert.True(rights.Allows(realUid));
        Assert.Equal(!limited, rights.Allows(4242));
        Assert.True(WatchRights.Of(Kmonitor.Security.WatchPolicyKind.Open, caller, () => false).Allows(4242));
        // The same decision REGISTER makes, target by target.
        foreach (uint target in new uint[] { 0, realUid, 4242 })
            Assert.Equal(Kmonitor.Security.WatchPolicy.MayWatch(Kmonitor.Security.WatchPolicyKind.Owner, caller, () => true, target), rights.Allows(target));
    }
}
