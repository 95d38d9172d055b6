using Kmonitor.Interop;

namespace Kmonitor.Daemon;

/// <summary>What a FUSE mount's daemon answered, as far as a new daemon needs to know.</summary>
public enum FuseMountState
{
    /// <summary>The daemon on the other end answered: it is alive and serving.</summary>
    Served,

    /// <summary>The connection is gone (the daemon died, or closed /dev/fuse): ENOTCONN.</summary>
    Dead,

    /// <summary>The request is still waiting: the daemon is alive but not reading (stopping, stopped or wedged).</summary>
    NotAnswering,
}

/// <summary>
/// Asks a FUSE mount whether its daemon is alive. statfs(2) always becomes a FUSE_STATFS request
/// (the kernel caches nothing for it), which fails at once with ENOTCONN once the connection is
/// aborted. A path lookup such as access(2) is no test: the dentry cache answers it without the
/// daemon, so a mount whose file a monitor once opened looks alive after its daemon died.
/// </summary>
public static class FuseMountProbe
{
    public static FuseMountState Probe(string mountPoint, TimeSpan timeout)
    {
        int errno = -1;
        // A daemon that is alive but not reading leaves the request waiting (killably) until it reads
        // or dies, so the call is made on a thread of its own and only waited for so long.
        var asker = new Thread(() => errno = StatfsErrno(mountPoint)) { IsBackground = true, Name = "kmonitor-mount-probe" };
        asker.Start();
        if (!asker.Join(timeout))
            return FuseMountState.NotAnswering;
        return errno == Errno.ENOTCONN ? FuseMountState.Dead : FuseMountState.Served;
    }

    /// <summary>statvfs(3), which glibc makes with statfs(2): only whether it fails, and with which errno, matters.</summary>
    private static unsafe int StatfsErrno(string path)
    {
        Tmds.Linux.statvfs result;
        fixed (byte* p = CString.From(path))
            return Tmds.Linux.LibC.statvfs(p, &result) == 0 ? 0 : Errno.Last;
    }
}
