using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse.Operations;

/// <summary>
/// The answer to POLL: the POLL* bits that are ready now (poll(2)'s revents), or an errno. ENOSYS
/// tells the kernel the file system has no poll: it stops asking, for the whole connection, and
/// reports every file as always readable and writable. Any other errno is POLLERR for the caller.
/// </summary>
public readonly struct PollReply
{
    private readonly FuseReply _reply;

    internal PollReply(FuseReply reply) => _reply = reply;

    public ulong Unique => _reply.Unique;

    /// <param name="revents">The ready bits (POLLIN, POLLOUT, ...), 0 for none: the caller then sleeps until a notification.</param>
    public bool Ready(uint revents) => _reply.Send(_reply.Begin().Append(new FusePollOut { Revents = revents }).Finish());

    public bool Error(int errno) => _reply.Error(errno);
}
