using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse.Operations;

/// <summary>FUSE_LOOKUP and FUSE_GETATTR replies for the mount's two nodes.</summary>
public static class FuseAttributes
{
    /// <summary>How long the kernel may cache names and attributes: they never change while we run.</summary>
    public const ulong ValidSeconds = 3600;

    public static ReadOnlySpan<byte> Entry(FuseReplyWriter writer, ulong unique, FuseAttr attr) =>
        writer.Begin(unique).Append(new FuseEntryOut
        {
            NodeId = attr.Ino,
            Generation = 1,
            EntryValid = ValidSeconds,
            AttrValid = ValidSeconds,
            Attr = attr,
        }).Finish();

    public static ReadOnlySpan<byte> Attr(FuseReplyWriter writer, ulong unique, FuseAttr attr) =>
        writer.Begin(unique).Append(new FuseAttrOut { AttrValid = ValidSeconds, Attr = attr }).Finish();
}
