namespace Kmonitor.Tests.Infrastructure;

/// <summary>A notification as the monitor received it: the fields of its siginfo_t.</summary>
public readonly record struct Notification(int Signo, int Code, int Pid, uint Uid, int Int)
{
    public const int SI_QUEUE = -1;

    public static Notification Parse(string line)
    {
        // sig SIGNO CODE PID UID INT
        var f = line.Split(' ');
        if (f.Length != 6 || f[0] != "sig")
            throw new FormatException($"not a notification: '{line}'");
        return new Notification(int.Parse(f[1]), int.Parse(f[2]), int.Parse(f[3]), uint.Parse(f[4]), int.Parse(f[5]));
    }
}

/// <summary>
/// The C test monitor (tests/clients/kmclient.c): opens the device, issues ioctls, and collects the
/// queued signals it receives (they are blocked, so they wait in its queue until asked for).
/// </summary>
public sealed partial class KmClient : LineProcess
{
    public KmClient(string? runAs = null, bool withUserGroups = false)
        : base(TestPaths.Native("kmclient"), runAs: runAs, withUserGroups: withUserGroups) { }

    /// <summary>kmclient started by <paramref name="wrapper"/> (unshare, sh...), which ends by exec'ing it.</summary>
    public KmClient(string wrapper, IEnumerable<string> args) : base(wrapper, args) { }

    public const int Signal = 40;

    public int Open(string path) => int.Parse(Ok($"open {path}")[0]);

    /// <summary>Opens and returns the raw answer ("ok FD" or "err NAME").</summary>
    public string TryOpen(string path) => Send($"open {path}");

    /// <summary>REGISTER; returns "ok" or "err NAME".</summary>
    public string Register(int fd, int pid, int type, int signal = Signal) => Send($"reg {fd} {pid} {type} {signal}");

    public string Deregister(int fd, int pid, int type, int signal = Signal) => Send($"dereg {fd} {pid} {type} {signal}");

    public string Ioctl(int fd, uint cmd, int pid, int type, int signal) => Send($"ioctl {fd} 0x{cmd:X} {pid} {type} {signal}");

    public string IoctlPointer(int fd, uint cmd, ulong address) => Send($"ioctlptr {fd} 0x{cmd:X} {address}");

    public string Close(int fd) => Send($"close {fd}");

    /// <summary>Gives up root for <paramref name="uid"/> (real, effective and saved); open files stay open.</summary>
    public void SetUid(uint uid) => Ok($"setuid {uid}");

    /// <summary>The next queued notification, or null if none comes within the time.</summary>
    public Notification? Wait(int timeoutMs = 10000)
    {
        var line = Send($"wait {timeoutMs}", timeoutMs + DefaultTimeoutMs);
        return line == "timeout" ? null : Notification.Parse(line);
    }

    /// <summary>The next notification, which must come.</summary>
    public Notification Expect(int timeoutMs = 10000) =>
        Wait(timeoutMs) ?? throw new TimeoutException($"kmclient {Pid}: no notification within {timeoutMs} ms");

    public void RegisterOk(int fd, int pid, int type, int signal = Signal)
    {
        var answer = Register(fd, pid, type, signal);
        if (answer != "ok")
            throw new InvalidOperationException($"REGISTER pid {pid} type 0x{type:X} signal {signal}: {answer}");
    }
}

/// <summary>
/// The C test target (tests/clients/kmtarget.c): a process that forks, creates threads, execs and
/// exits when told to, so every event happens exactly when a test wants it.
/// </summary>
public sealed class KmTarget : LineProcess
{
    /// <summary>Starts the target and waits until it answers, so it is kmtarget (under its final uid) from then on.</summary>
    public KmTarget(string? runAs = null) : this(TestPaths.Native("kmtarget"), runAs) { }

    /// <summary>kmtarget run from another file (a copy under another name: its comm is that name).</summary>
    public KmTarget(string program, string? runAs) : base(program, runAs: runAs) => Ok("pid");

    public int Fork() => int.Parse(Ok("fork")[0]);
    public void ExitChild(int child, int code) => Ok($"exitchild {child} {code}");
    public int Reap(int child) => int.Parse(Ok($"reap {child}")[0]);
    public int ForkExit(int code) => int.Parse(Ok($"forkexit {code}")[0]);
    public int Thread() => int.Parse(Ok("thread")[0]);
    public void EndThread(int tid) => Ok($"endthread {tid}");
    public uint Uid => uint.Parse(Ok("pid")[1]);

    /// <summary>
    /// <paramref name="children"/> children that each fork <paramref name="grandchildren"/> grandchildren
    /// exec'ing <paramref name="program"/> (default /bin/true), all exiting at once; returned once all are
    /// exited (left as zombies: <see cref="ReapAll"/>; this target is their subreaper), as child pid -> its
    /// grandchildren's pids.
    /// </summary>
    public List<(int Child, int[] Grandchildren)> Tree(int children, int grandchildren, string? program = null) =>
        [.. Ok($"tree {children} {grandchildren}{(program is null ? "" : " " + program)}").Select(word =>
        {
            var parts = word.Split(':');
            return (int.Parse(parts[0]), parts[1].Length == 0 ? [] : parts[1].Split(',').Select(int.Parse).ToArray());
        })];

    /// <summary><paramref name="count"/> children exec'ing <paramref name="argv"/> at once; their pids, once all have exited (zombies until <see cref="ReapAll"/>).</summary>
    public int[] Spawn(int count, string argv) => [.. Ok($"spawn {count} {argv}").Select(int.Parse)];

    /// <summary>Reaps what Tree and Spawn left as zombies; how many.</summary>
    public int ReapAll() => int.Parse(Ok("reapall")[0]);

    /// <summary>A child exec'ing <paramref name="argv"/>, left running.</summary>
    public int SpawnHold(string argv) => int.Parse(Ok($"spawnhold {argv}")[0]);

    /// <summary>Kills a child and reaps it: its raw wait status.</summary>
    public int KillChild(int child, int signal) => int.Parse(Ok($"killchild {child} {signal}")[0]);

    /// <summary>A child that kills itself with <paramref name="signal"/>: its pid and raw wait status.</summary>
    public (int Pid, int Status) ForkKill(int signal)
    {
        var f = Ok($"forkkill {signal}");
        return (int.Parse(f[0]), int.Parse(f[1]));
    }

    /// <summary>prctl(PR_SET_NAME).</summary>
    public void Rename(string name) => Ok($"rename {name}");

    /// <summary>Writes /proc/self/comm.</summary>
    public void RenameThroughProc(string name) => Ok($"renameproc {name}");

    /// <summary>Execs itself again; the new image announces itself with "ok PID".</summary>
    public void Exec()
    {
        Process.StandardInput.WriteLine("exec");
        Process.StandardInput.Flush();
        var line = ReadLine("exec");
        if (line != $"ok {Pid}")
            throw new InvalidOperationException($"kmtarget after exec said '{line}'");
    }

    /// <summary>Tells the process to exit with <paramref name="code"/> (it answers nothing).</summary>
    public void Exit(int code)
    {
        Process.StandardInput.WriteLine($"exit {code}");
        Process.StandardInput.Flush();
        WaitForExit();
    }
}
