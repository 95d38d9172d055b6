using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse.Operations;

/// <summary>The answer to WRITE: how many of the bytes were taken, or an errno.</summary>
public readonly struct WriteReply
{
    private readonly FuseReply _reply;

    internal WriteReply(FuseReply reply) => _reply = reply;

    public ulong Unique => _reply.Unique;

    public bool Written(uint size) => _reply.Send(_reply.Begin().Append(new FuseWriteOut { Size = size }).Finish());

    public bool Error(int errno) => _reply.Error(errno);
}
