using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse;

/// <summary>Answers one request; an empty reply means the protocol wants none (FORGET, INTERRUPT).</summary>
public interface IFuseRequestHandler
{
    ReadOnlySpan<byte> Handle(FuseRequest request, FuseReplyWriter writer);
}
