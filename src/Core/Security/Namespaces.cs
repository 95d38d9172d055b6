using Kmonitor.Interop;
using Kmonitor.Procfs;
using static Tmds.Linux.LibC;

namespace Kmonitor.Security;

/// <summary>
/// Namespaces of other tasks, as /proc shows them: a namespace is named by the inode of its
/// /proc/PID/ns/KIND link ("pid:[4026531836]").
/// </summary>
public static class Namespaces
{
    /// <summary>The daemon's own user namespace (the initial one, for a daemon run as a system service).</summary>
    public static ulong OwnUserNamespace { get; } = Inode(Environment.ProcessId, "user") ?? 0;

    /// <summary>The daemon's own pid namespace.</summary>
    public static ulong OwnPidNamespace { get; } = Inode(Environment.ProcessId, "pid") ?? 0;

    /// <summary>The namespace of kind <paramref name="kind"/> ("pid", "user") of a task, or null when it is gone.</summary>
    public static ulong? Inode(int tid, string kind)
    {
        // On the path of DEREGISTER: a readlink into stack buffers, nothing allocated.
        Span<byte> name = stackalloc byte[3 + kind.Length];
        "ns/"u8.CopyTo(name);
        System.Text.Encoding.ASCII.GetBytes(kind, name[3..]);
        Span<byte> target = stackalloc byte[64];
        int length = ProcFile.ReadLink(tid, name, target);
        return length > 0 ? ParseInode(target[..length]) : null;
    }

    /// <summary>The inode in a namespace link's target, "pid:[4026531836]".</summary>
    private static ulong? ParseInode(ReadOnlySpan<byte> target)
    {
        int open = target.IndexOf((byte)'['), close = target.IndexOf((byte)']');
        return open > 0 && close > open && ulong.TryParse(target[(open + 1)..close], out ulong inode) ? inode : null;
    }

    /// <summary>
    /// The task that a process in pid namespace <paramref name="namespaceInode"/> (at
    /// <paramref name="depth"/> below ours) calls <paramref name="localPid"/>, found by looking at every
    /// task's NSpid line. Slow (it reads /proc once per process), so it is used only for monitors in
    /// other pid namespaces, whose ioctls carry pids as they see them, and only on the ScanWorker.
    /// </summary>
    public static int? FindByLocalPid(ulong namespaceInode, int depth, int localPid)
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out int pid))
                continue;
            foreach (int tid in TasksOf(pid))
            {
                if (ProcTaskStatus.PidAtDepth(tid, depth) == localPid && IsVisibleIn(tid, namespaceInode, depth))
                    return tid;
            }
        }
        return null;
    }

    private static IEnumerable<int> TasksOf(int pid)
    {
        string[] tasks;
        try
        {
            tasks = Directory.GetDirectories($"/proc/{pid}/task");
        }
        catch (IOException)
        {
            yield break;
        }
        foreach (var task in tasks)
        {
            if (int.TryParse(Path.GetFileName(task), out int tid))
                yield return tid;
        }
    }

    /// <summary>
    /// Whether a task can be seen from pid namespace <paramref name="namespaceInode"/> (at
    /// <paramref name="depth"/> below ours): its own pid namespace is that one or one of its
    /// descendants. Walks up with NS_GET_PARENT.
    /// </summary>
    public static bool IsVisibleIn(int tid, ulong namespaceInode, int depth)
    {
        if (!ProcTaskStatus.TryRead(tid, out var status) || status.NamespaceDepth < depth)
            return false;
        var fd = OpenPidNamespace(tid);
        try
        {
            for (int up = status.NamespaceDepth - depth; up > 0 && !fd.IsInvalid; up--)
            {
                var parent = ParentOf(fd);
                fd.Dispose();
                fd = parent;
            }
            return !fd.IsInvalid && InodeOf(fd) == namespaceInode;
        }
        finally
        {
            fd.Dispose();
        }
    }

    private static unsafe FileDescriptorHandle OpenPidNamespace(int tid)
    {
        fixed (byte* path = CString.From($"/proc/{tid}/ns/pid"))
            return new FileDescriptorHandle(open(path, O_RDONLY | O_CLOEXEC));
    }

    private static unsafe FileDescriptorHandle ParentOf(FileDescriptorHandle pidNamespace) =>
        new(Files.ioctl(pidNamespace, LinuxNamespaces.NS_GET_PARENT, null));

    private static ulong InodeOf(FileDescriptorHandle fd)
    {
        var target = new FileInfo($"/proc/self/fd/{fd.Fd}").LinkTarget ?? "";
        int open = target.IndexOf('['), close = target.IndexOf(']');
        return open > 0 && close > open && ulong.TryParse(target[(open + 1)..close], out ulong inode) ? inode : 0;
    }
}
