using Kmonitor.Fuse.FileSystem;
using Kmonitor.Fuse.Protocol;
using Tmds.Linux;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_GETATTR on the one-file mount: the root directory and the file.</summary>
public class GetattrTests
{
    private static (FuseOutHeader Header, byte[] Payload) Getattr(ulong node) =>
        TestSession.Mount(new ScriptedDevice()).Ask(Request(FuseOpcode.FUSE_GETATTR, 12, node, 100, new byte[16]));

    [Fact]
    public void The_root_is_a_directory_anyone_may_list()
    {
        var (header, payload) = Getattr(FuseConstants.FUSE_ROOT_ID);
        Assert.Equal(0, header.Error);
        var attr = Read<FuseAttrOut>(payload);
        Assert.Equal(OneFileFileSystem.ValidSeconds, attr.AttrValid);
        Assert.Equal((FuseConstants.FUSE_ROOT_ID, (ushort)LibC.S_IFDIR | 0x1EDu, 2u), (attr.Attr.Ino, attr.Attr.Mode, attr.Attr.Nlink));
    }

    [Fact]
    public void The_file_has_the_owner_and_mode_it_was_given()
    {
        var (header, payload) = Getattr(OneFileFileSystem.FileNodeId);
        Assert.Equal(0, header.Error);
        var attr = Read<FuseAttrOut>(payload).Attr;
        Assert.Equal((OneFileFileSystem.FileNodeId, (ushort)LibC.S_IFREG | TestSession.FileMode), (attr.Ino, attr.Mode));
        Assert.Equal((TestSession.FileUid, TestSession.FileGid, 4096u), (attr.Uid, attr.Gid, attr.BlkSize));
        Assert.NotEqual(0ul, attr.Mtime);
    }

    [Fact]
    public void Another_node_is_ENOENT() => Assert.Equal(-LibC.ENOENT, Getattr(3).Header.Error);
}
