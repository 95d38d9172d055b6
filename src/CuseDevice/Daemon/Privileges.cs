using Kmonitor.Procfs;

namespace Kmonitor.Daemon;

/// <summary>The capabilities the daemon needs, checked once at start so a missing one is named, not discovered.</summary>
public static class Privileges
{
    private const int CAP_KILL = 5;
    private const int CAP_NET_ADMIN = 12;
    private const int CAP_SYS_PTRACE = 19;
    private const int CAP_SYS_ADMIN = 21;

    /// <summary>What each capability is needed for, in the order they are reported.</summary>
    private static readonly (int Bit, string Name, string Why)[] Required =
    [
        (CAP_SYS_ADMIN, "CAP_SYS_ADMIN", "to mount the FUSE file system or create the CUSE device"),
        (CAP_NET_ADMIN, "CAP_NET_ADMIN", "to listen to the netlink process connector"),
        (CAP_KILL, "CAP_KILL", "to signal monitors of other users"),
        (CAP_SYS_PTRACE, "CAP_SYS_PTRACE", "to read other users' /proc entries: exit codes of zombies, namespaces"),
    ];

    /// <summary>
    /// The process connector reports from the initial pid namespace only, and pids are translated
    /// from there: a daemon in another pid namespace would serve a device that never reports anything.
    /// </summary>
    public static string? WrongPidNamespace()
    {
        string? status = ProcFile.ReadText("/proc/self/status");
        var line = status?.Split('\n').FirstOrDefault(l => l.StartsWith("NSpid:"));
        int depth = line is null ? 0 : line.Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries).Length - 2;
        return depth > 0 ? "kmonitord must run in the initial pid namespace (it is in a child one): the process connector reports nothing there" : null;
    }

    /// <summary>One line naming every missing capability, or null when all are there.</summary>
    public static string? Missing()
    {
        ulong effective = ReadEffective();
        var missing = Required.Where(c => (effective & (1UL << c.Bit)) == 0).ToList();
        return missing.Count == 0 ? null
            : "missing privileges: " + string.Join("; ", missing.Select(c => $"{c.Name} ({c.Why})")) + ". Run as root.";
    }

    private static ulong ReadEffective()
    {
        string? status = ProcFile.ReadText("/proc/self/status");
        var line = status?.Split('\n').FirstOrDefault(l => l.StartsWith("CapEff:"));
        return line is null ? 0 : Convert.ToUInt64(line["CapEff:".Length..].Trim(), 16);
    }
}
