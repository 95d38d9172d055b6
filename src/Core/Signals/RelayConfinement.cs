using Kmonitor.Interop;
using static Kmonitor.Interop.Capabilities;
using static Kmonitor.Interop.ProcessControl;
using static Tmds.Linux.LibC;

namespace Kmonitor.Signals;

/// <summary>
/// The relay starts as full root, in the host's mount namespace, inside a pid namespace that a
/// container's root shares with it. Before it serves, it takes away everything but sending signals:
/// it becomes non-dumpable, moves into an empty mount namespace, sets no_new_privs and keeps only
/// CAP_KILL. Non-dumpable comes first and matters most: with fewer capabilities than the
/// container's root, a dumpable relay would let that root ptrace it or follow /proc/RELAY/root
/// into the host's file system; non-dumpable, both need CAP_SYS_PTRACE over the host.
/// </summary>
/// <remarks>
/// Runs on the main thread, which serves the requests. The dumpable flag belongs to the whole
/// process; the mount namespace, no_new_privs and the capabilities belong to the calling thread and
/// to the threads it starts later, so the runtime's own threads started before this (finalizer,
/// signal handling) keep root's; they run no relay code, and being non-dumpable keeps everyone
/// else out of them too.
/// </remarks>
internal static unsafe class RelayConfinement
{
    /// <summary>Confines the calling process; returns the step that failed and why, or null.</summary>
    public static string? Apply()
    {
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
            return Failed("prctl(PR_SET_DUMPABLE, 0)");
        if (EnterEmptyMountNamespace() is string mountProblem)
            return mountProblem;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
            return Failed("prctl(PR_SET_NO_NEW_PRIVS, 1)");
        return KeepOnlyCapKill();
    }

    /// <summary>
    /// A new mount namespace whose only mount is an empty read-only tmpfs: the relay needs no file
    /// once started, so nothing of the host's file system is left to reach through it. The tmpfs is
    /// mounted on /proc, a directory that exists wherever the daemon runs, and becomes the root
    /// with pivot_root(".", "."), which stacks the old root on it, to be detached at once.
    /// </summary>
    private static string? EnterEmptyMountNamespace()
    {
        if (unshare(CLONE_NEWNS) != 0)
            return Failed("unshare(CLONE_NEWNS)");
        // Private first: nothing done below may propagate back to the host's mounts.
        fixed (byte* root = "/\0"u8)
        {
            if (mount(null, root, null, MS_REC | MS_PRIVATE, null) != 0)
                return Failed("make the mounts private");
        }
        fixed (byte* tmpfs = "tmpfs\0"u8, proc = "/proc\0"u8, options = "size=4k,mode=0555\0"u8, here = ".\0"u8, root = "/\0"u8)
        {
            if (mount(tmpfs, proc, tmpfs, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, options) != 0)
                return Failed("mount an empty tmpfs");
            if (chdir(proc) != 0)
                return Failed("chdir into the empty tmpfs");
            if (Mounts.pivot_root(here, here) != 0)
                return Failed("pivot_root into the empty tmpfs");
            if (umount2(here, MNT_DETACH) != 0)
                return Failed("detach the old root");
            if (chdir(root) != 0)
                return Failed("chdir to the new root");
        }
        return null;
    }

    /// <summary>CAP_KILL alone, effective and permitted, none inheritable (which also empties the ambient set).</summary>
    private static string? KeepOnlyCapKill()
    {
        var header = new CapUserHeader { Version = _LINUX_CAPABILITY_VERSION_3 };
        var sets = stackalloc CapUserData[2]; // capabilities 0-31, then 32-63
        sets[0] = new CapUserData { Effective = 1u << CAP_KILL, Permitted = 1u << CAP_KILL };
        sets[1] = default;
        return capset(&header, sets) == 0 ? null : Failed("capset(CAP_KILL only)");
    }

    /// <summary>
    /// Loads every assembly the relay's code refers to, and theirs in turn: after the pivot a type
    /// from an assembly not loaded yet would throw FileNotFoundException. The netstandard and
    /// mscorlib facades are loaded but not followed (they refer to the whole framework); what they
    /// forward to is among the references of the project's own assemblies.
    /// </summary>
    public static void LoadReferencedAssemblies()
    {
        var seen = new HashSet<string>();
        var pending = new Stack<System.Reflection.Assembly>([typeof(RelayConfinement).Assembly, typeof(Tmds.Linux.LibC).Assembly]);
        while (pending.TryPop(out var assembly))
        {
            foreach (var name in assembly.GetReferencedAssemblies())
            {
                if (name.Name is not { } simple || !seen.Add(simple))
                    continue;
                var loaded = System.Reflection.Assembly.Load(name);
                if (simple is not ("netstandard" or "mscorlib"))
                    pending.Push(loaded);
            }
        }
    }

    private static string Failed(string step) => $"{step}: {Errno.Describe(Errno.Last)}";
}
