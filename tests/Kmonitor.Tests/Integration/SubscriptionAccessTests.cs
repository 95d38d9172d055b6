using Kmonitor.Tests.Infrastructure;
using static Kmonitor.Abi.KmonitorAbi;
using static Kmonitor.Abi.SubscriptionAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// Who may watch whom, for records and subscriptions: the monitor is an unprivileged member of the
/// kmonitor group (no capabilities), its own targets run as that user, the others as root.
/// </summary>
public class SubscriptionAccessTests(AccessFixture fixture) : IClassFixture<AccessFixture>, IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private DaemonProcess Daemon => fixture.Daemon;
    private static uint MemberUid => SystemUsers.Uid(SystemUsers.Member);

    private T Own<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
            _owned[i].Dispose();
    }

    private (KmClient Client, int Fd) MemberMonitor()
    {
        var client = Own(new KmClient(SystemUsers.Member, withUserGroups: true));
        return (client, client.Open(Daemon.DevicePath));
    }

    [Fact]
    public void TREE_and_REGISTER_with_records_on_roots_process_are_EPERM_and_on_ones_own_are_allowed()
    {
        var (member, fd) = MemberMonitor();
        var own = Own(new KmTarget(SystemUsers.Member));
        var roots = Own(new KmTarget());
        Assert.Equal("err EPERM", member.Subscribe(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXIT, roots.Pid));
        Assert.Equal("err EPERM", member.Register(fd, roots.Pid, KMONITOR_PROCESS_EXIT, RecordsInsteadOfSignal));
        uint id = member.SubscribeOk(fd, KMONITOR_SCOPE_TREE, KMONITOR_PROCESS_EXISTING | KMONITOR_PROCESS_EXIT, own.Pid);
        var existing = member.Next(fd);
        Assert.True((existing.Type, existing.Pid, existing.Uid, existing.Watch) == (KMONITOR_PROCESS_EXISTING, own.Pid, MemberUid, id), $"{existing}");
    }

    [Fact]
    public void ALL_and_NAME_skip_the_processes_the_caller_may_not_watch()
    {
        using var program = new NamedProgram(TestPaths.Native("kmtarget"));
        var (member, fd) = MemberMonitor();
        var rootsNamed = Own(new KmTarget(program.Path, null));
        var ownNamed = Own(new KmTarget(program.Path, SystemUsers.Member));
        var roots = Own(new KmTarget());
        var own = Own(new KmTarget(SystemUsers.Member));
        uint byName = member.SubscribeOk(fd, KMONITOR_SCOPE_NAME, KMONITOR_PROCESS_EXISTING | KMONITOR_PROCESS_EXIT, pattern: program.Name);
        var existing = member.Next(fd); // only the member's own process of that name
        Assert.True((existing.Type, existing.Pid, existing.Uid, existing.Watch, existing.Comm) == (KMONITOR_PROCESS_EXISTING, ownNamed.Pid, MemberUid, byName, program.Name),
            $"{existing}");
        uint all = member.SubscribeOk(fd, KMONITOR_SCOPE_ALL, KMONITOR_PROCESS_EXEC | KMONITOR_PROCESS_EXIT);

        rootsNamed.Exit(0);
        roots.Exec();
        roots.Exit(0);
        own.Exit(0); // last: everything before it has been handled when its record arrives
        var records = member.ReadUntil(fd, r => r.Type == KMONITOR_PROCESS_EXIT && r.Pid == own.Pid && r.Watch == all, 60_000);
        Assert.True(records.All(r => r.Uid == MemberUid), $"only the member's processes: {EventRecord.Show(records)}");
        Assert.DoesNotContain(records, r => r.Pid == roots.Pid || r.Pid == rootsNamed.Pid);
        RecordAssert.NumberedFromOne([existing, .. records]);
    }
}
