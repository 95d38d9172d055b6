using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse.Operations;

/// <summary>The answer to LOOKUP: the node a name leads to, its attributes, and how long the kernel may cache them.</summary>
public readonly struct EntryReply
{
    private readonly FuseReply _reply;

    internal EntryReply(FuseReply reply) => _reply = reply;

    public ulong Unique => _reply.Unique;

    public bool Entry(in FuseEntryOut entry) => _reply.Send(_reply.Begin().Append(entry).Finish());

    public bool Error(int errno) => _reply.Error(errno);
}

/// <summary>The answer to GETATTR: a node's attributes, and how long the kernel may cache them.</summary>
public readonly struct AttrReply
{
    private readonly FuseReply _reply;

    internal AttrReply(FuseReply reply) => _reply = reply;

    public ulong Unique => _reply.Unique;

    public bool Attr(in FuseAttrOut attr) => _reply.Send(_reply.Begin().Append(attr).Finish());

    public bool Error(int errno) => _reply.Error(errno);
}
