using System.Diagnostics;
using Kmonitor.Tests.Infrastructure;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Integration;

/// <summary>
/// The signal relay runs inside a monitor's pid namespace, which a container's root shares with it.
/// Started as the host's root, it confines itself before it serves: these tests look at it from
/// the host and from that root.
/// </summary>
public class RelayConfinementTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>, IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private DaemonProcess Daemon => fixture.Daemon;

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

    [Fact]
    public void Root_in_the_pid_namespace_cannot_reach_into_the_relay_and_notifications_still_arrive()
    {
        // unshare: a new pid namespace with its own /proc; inside, two sleeps to watch and the monitor.
        string script = $"sleep 600 & first=$!; sleep 600 & echo \"ok $first $!\"; exec {TestPaths.Native("kmclient")}";
        var monitor = Own(new LineProcess("unshare", ["--pid", "--fork", "--mount-proc", "sh", "-c", script]));
        int[] local = monitor.ReadLine("the targets' pids").Split(' ')[1..].Select(int.Parse).ToArray();
        int fd = int.Parse(monitor.Ok($"open {Daemon.DevicePath}")[0]);
        foreach (int target in local)
            Assert.Equal("ok", monitor.Send($"reg {fd} {target} {KMONITOR_PROCESS_EXIT} {KmClient.Signal}"));
        int kmclient = ChildOf(monitor.Pid); // unshare forks the namespace's init: sh, which became kmclient
        int[] sleepers = ChildrenOf(kmclient);

        // The first notification starts the relay, which confines itself before it answers.
        Posix.Kill(HostPidOf(sleepers, local[0]), Posix.SIGTERM);
        Assert.Equal(new Notification(KmClient.Signal, Notification.SI_QUEUE, local[0], 0, KMONITOR_PROCESS_EXIT),
            Notification.Parse(monitor.Send("wait 20000", 30000)));
        int relay = RelayOf(Daemon.Pid);

        // From the host: CAP_KILL alone (a subset of what the container's root holds, so only the
        // relay being non-dumpable keeps that root out), no_new_privs, and an empty root of its own.
        var status = File.ReadAllLines($"/proc/{relay}/status").Select(l => l.Split(':', 2)).ToDictionary(f => f[0], f => f[1].Trim());
        Assert.Equal(("0000000000000020", "0000000000000020", "0000000000000000", "1"),
            (status["CapEff"], status["CapPrm"], status["CapInh"], status["NoNewPrivs"]));
        Assert.NotEqual(new FileInfo("/proc/self/ns/mnt").LinkTarget, new FileInfo($"/proc/{relay}/ns/mnt").LinkTarget);
        Assert.Empty(Directory.GetFileSystemEntries($"/proc/{relay}/root"));

        // From the container's root (its pid and mount namespaces, every capability but CAP_SYS_PTRACE),
        // against every thread: the runtime's own threads, started before the relay confined itself,
        // keep root's capabilities and the host's mount namespace, and only non-dumpable guards them.
        foreach (int thread in ThreadsInside(relay))
        {
            var pry = Process.Start(new ProcessStartInfo("nsenter",
                ["--target", kmclient.ToString(), "--pid", "--mount", "--",
                 "setpriv", "--bounding-set", "-sys_ptrace", "--inh-caps", "-all", TestPaths.Native("kmpry"), thread.ToString()])
            { RedirectStandardOutput = true })!;
            string[] answers = pry.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(pry.WaitForExit(20_000));
            string[] refused = ["root err EACCES", "ptrace err EPERM"];
            if (!answers.SequenceEqual(refused) && !ThreadsInside(relay).Contains(thread))
                continue; // ended meanwhile: the runtime's tiering thread comes and goes
            Assert.Equal(refused, answers);
        }

        // The relay serves on, and it is the same relay.
        Posix.Kill(HostPidOf(sleepers, local[1]), Posix.SIGTERM);
        Assert.Equal(new Notification(KmClient.Signal, Notification.SI_QUEUE, local[1], 0, KMONITOR_PROCESS_EXIT),
            Notification.Parse(monitor.Send("wait 20000", 30000)));
        Assert.Equal(relay, RelayOf(Daemon.Pid));

        Assert.Equal("ok", monitor.Send("quit"));
        Assert.Equal(0, monitor.WaitForExit(20_000));
    }

    /// <summary>The host pid of the sleeper that calls itself <paramref name="localPid"/> in its namespace.</summary>
    private static int HostPidOf(int[] hostPids, int localPid) =>
        hostPids.Single(pid => File.ReadAllLines($"/proc/{pid}/status").Single(l => l.StartsWith("NSpid:")).Split('\t').Last() == localPid.ToString());

    /// <summary>The relay's threads as its own pid namespace numbers them (the last NSpid entry).</summary>
    private static List<int> ThreadsInside(int relay)
    {
        var threads = new List<int>();
        foreach (var task in Directory.GetDirectories($"/proc/{relay}/task"))
        {
            try
            {
                string line = File.ReadAllLines($"{task}/status").Single(l => l.StartsWith("NSpid:"));
                threads.Add(int.Parse(line.Split('\t').Last()));
            }
            catch (IOException) { } // a thread that ended meanwhile
        }
        Assert.NotEmpty(threads);
        return threads;
    }

    /// <summary>The daemon's relay: its child running "relay".</summary>
    private static int RelayOf(int daemon)
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out int pid))
                continue;
            try
            {
                string stat = File.ReadAllText($"{entry}/stat");
                int parent = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                if (parent == daemon && File.ReadAllText($"{entry}/cmdline").Split('\0').Contains("relay"))
                    return pid;
            }
            catch (IOException) { } // gone meanwhile
        }
        throw new InvalidOperationException($"daemon {daemon} has no relay");
    }

    private static int ChildOf(int pid) => ChildrenOf(pid, 1)[0];

    private static int[] ChildrenOf(int pid, int count = 2)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var children = File.ReadAllText($"/proc/{pid}/task/{pid}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (children.Length >= count)
                return children.Select(int.Parse).ToArray();
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{pid} has fewer than {count} children");
            Thread.Sleep(10);
        }
    }
}
