using System.Diagnostics;
using Kmonitor.Tests.Infrastructure;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// The harness the record tests stand on, checked without a daemon: kmclient's read, poll and epoll
/// commands on a FIFO (64 zero bytes read as one record of type 0), WaitBlocked, and kmtarget's
/// bursts. A record test that fails must fail because of the device, not of its tools.
/// </summary>
public sealed class RecordClientTests : IDisposable
{
    private readonly string _fifo = Path.Combine(Path.GetTempPath(), $"kmonitor-fifo-{Guid.NewGuid():N}");

    public RecordClientTests()
    {
        using var mkfifo = Process.Start("mkfifo", _fifo)!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    public void Dispose() => File.Delete(_fifo);

    private void Feed(int bytes)
    {
        using var writer = new FileStream(_fifo, FileMode.Open, FileAccess.Write);
        writer.Write(new byte[bytes]);
    }

    [Fact]
    public void Reads_polls_and_edge_triggered_waits_see_what_is_written_and_time_out_otherwise()
    {
        using var client = new KmClient();
        int fd = client.Open(_fifo); // O_RDWR: a FIFO opened so never blocks and never sees EOF

        client.Begin($"read {fd} 64 0");
        client.WaitBlocked();
        Feed(64);
        Assert.Equal("ok 1", client.Finish("the blocked read"));
        Assert.Equal(0, EventRecord.Parse(client.Finish("its record")).Type);

        Assert.Equal("err EINTR", client.ReadInterrupted(fd, restart: false).Answer);
        Assert.Equal("timeout", client.Read(fd, 64, 200).Answer);
        Assert.Equal("err EAGAIN", client.ReadNonBlocking(fd).Answer);
        Assert.Equal("timeout", client.Poll(fd, 0));

        client.Begin($"poll {fd} 20000");
        client.WaitBlocked();
        Feed(128);
        Assert.Equal("readable", client.Finish("the blocked poll"));
        Assert.Equal("readable", client.Select(fd, 0));
        Assert.Equal(2, client.Drain(fd).Count);

        int ep = client.EpollEdgeTriggered(fd);
        for (int i = 0; i < 2; i++)
        {
            client.Begin($"epwait {ep} 20000");
            client.WaitBlocked();
            Feed(64);
            Assert.Equal("readable", client.Finish($"epoll_wait {i + 1}"));
        }
        Assert.Equal("timeout", client.EpollWait(ep, 0));
        Assert.Equal(2, client.Drain(fd).Count);
        Assert.Equal("ok 65", client.Write(fd, 65));
        Assert.Equal("err partial 65", client.Read(fd, 128, 1000).Answer); // not whole records: said so, none parsed
    }

    [Fact]
    public void Record_lines_parse_with_escaped_and_empty_names()
    {
        var exit = EventRecord.Parse("rec KMONITOR_PROCESS_EXIT 3 10 11 1 1000 768 10 64 0 123 a\\x20b\\x5C");
        Assert.Equal(new EventRecord(0x40, 3, 10, 11, 1, 1000, 768, 10, 64, 0, 123, "a b\\"), exit);
        var lost = EventRecord.Parse("rec KMONITOR_EVENT_LOST 9 0 0 0 0 12 0 64 0 0 ");
        Assert.Equal(("", 0x8000, 12), (lost.Comm, lost.Type, lost.Status));
    }

    [Fact]
    public void Kmtarget_bursts_leave_zombies_until_reapall_and_report_deaths_by_signal()
    {
        using var target = new KmTarget();
        var tree = target.Tree(2, 3);
        Assert.Equal(2, tree.Count);
        Assert.All(tree, t => Assert.Equal(3, t.Grandchildren.Length));
        Assert.All(tree.SelectMany(t => t.Grandchildren.Append(t.Child)), pid =>
            Assert.Contains(") Z ", File.ReadAllText($"/proc/{pid}/stat"))); // exited, not reaped
        Assert.Equal(8, target.ReapAll());
        Assert.Equal(3, target.Spawn(3, "/bin/true").Length);
        Assert.Equal(3, target.ReapAll());
        Assert.Equal(WaitStatus.Killed(Posix.SIGTERM), target.ForkKill(Posix.SIGTERM).Status);
        int sleeper = target.SpawnHold("/bin/sleep 100");
        Assert.Equal(WaitStatus.Killed(Posix.SIGKILL), target.KillChild(sleeper, Posix.SIGKILL));

        using var program = new NamedProgram(TestPaths.Native("kmtarget"));
        using var named = new KmTarget(program.Path, null);
        Assert.Equal(program.Name, File.ReadAllText($"/proc/{named.Pid}/comm").TrimEnd('\n'));
        named.Rename("kmt-renamed");
        Assert.Equal("kmt-renamed", File.ReadAllText($"/proc/{named.Pid}/comm").TrimEnd('\n'));
        named.RenameThroughProc("kmt-viaproc");
        Assert.Equal("kmt-viaproc", File.ReadAllText($"/proc/{named.Pid}/comm").TrimEnd('\n'));
    }
}
