using Kmonitor.Fuse.FileSystem;
using Kmonitor.Fuse.Protocol;
using Tmds.Linux;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_LOOKUP on the one-file mount: its one name, and no other.</summary>
public class LookupTests
{
    [Fact]
    public void The_file_name_in_the_root_leads_to_the_file_node()
    {
        var (header, payload) = TestSession.Mount(new ScriptedDevice()).Ask(Request(FuseOpcode.FUSE_LOOKUP, 8, FuseConstants.FUSE_ROOT_ID, 100, Name(TestSession.FileName)));
        Assert.Equal((0, 8ul), (header.Error, header.Unique));
        var entry = Read<FuseEntryOut>(payload);
        Assert.Equal((OneFileFileSystem.FileNodeId, 1ul), (entry.NodeId, entry.Generation));
        Assert.Equal((OneFileFileSystem.ValidSeconds, OneFileFileSystem.ValidSeconds), (entry.EntryValid, entry.AttrValid));
        Assert.Equal((OneFileFileSystem.FileNodeId, (ushort)LibC.S_IFREG | TestSession.FileMode, 1u), (entry.Attr.Ino, entry.Attr.Mode, entry.Attr.Nlink));
        Assert.Equal((TestSession.FileUid, TestSession.FileGid), (entry.Attr.Uid, entry.Attr.Gid));
    }

    [Theory]
    [InlineData(FuseConstants.FUSE_ROOT_ID, "other")]
    [InlineData(FuseConstants.FUSE_ROOT_ID, "devic")]
    [InlineData(OneFileFileSystem.FileNodeId, TestSession.FileName)]
    public void Any_other_name_is_ENOENT(ulong parent, string name)
    {
        var (header, payload) = TestSession.Mount(new ScriptedDevice()).Ask(Request(FuseOpcode.FUSE_LOOKUP, 8, parent, 100, Name(name)));
        Assert.Equal(-LibC.ENOENT, header.Error);
        Assert.Empty(payload);
    }
}
