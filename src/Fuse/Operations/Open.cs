using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse.Operations;

/// <summary>The answer to OPEN or OPENDIR: a file handle and the FOPEN_* flags the kernel opens it with.</summary>
public readonly struct OpenReply
{
    private readonly FuseReply _reply;

    internal OpenReply(FuseReply reply) => _reply = reply;

    public ulong Unique => _reply.Unique;

    /// <param name="fh">Handed back in every later request on the file (READ, IOCTL, RELEASE, ...).</param>
    /// <param name="openFlags">FOPEN_* flags: how the kernel treats the open file.</param>
    public bool Opened(ulong fh, uint openFlags) =>
        _reply.Send(_reply.Begin().Append(new FuseOpenOut { Fh = fh, OpenFlags = openFlags }).Finish());

    public bool Error(int errno) => _reply.Error(errno);
}
