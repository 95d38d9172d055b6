using Kmonitor.Procfs;
using static Kmonitor.Interop.Capabilities;

namespace Kmonitor.Daemon;

/// <summary>The capabilities the daemon needs, checked once at start so a missing one is named, not discovered.</summary>
public static class Privileges
{
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
    public static string? WrongPidNamespace() =>
        Own().NamespaceDepth > 0 ? "kmonitord must run in the initial pid namespace (it is in a child one): the process connector reports nothing there" : null;

    /// <summary>One line naming every missing capability, or null when all are there.</summary>
    public static string? Missing()
    {
        ulong effective = Own().EffectiveCaps;
        var missing = Required.Where(c => (effective & (1UL << c.Bit)) == 0).ToList();
        return missing.Count == 0 ? null
            : "missing privileges: " + string.Join("; ", missing.Select(c => $"{c.Name} ({c.Why})")) + ". Run as root.";
    }

    /// <summary>The daemon's own /proc status; all zero (no capabilities) when it cannot be read.</summary>
    private static ProcTaskStatus Own() => ProcTaskStatus.TryRead(Environment.ProcessId, out var status) ? status : default;
}
