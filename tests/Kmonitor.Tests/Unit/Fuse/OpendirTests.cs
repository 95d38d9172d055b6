using Kmonitor.Fuse.Protocol;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_OPENDIR on the one-file mount: the root opens with the flags its owner chose.</summary>
public class OpendirTests
{
    [Fact]
    public void The_root_opens_with_the_directory_flags_and_no_device_call()
    {
        var device = new ScriptedDevice();
        var (header, payload) = TestSession.Mount(device).Ask(Request(FuseOpcode.FUSE_OPENDIR, 30, FuseConstants.FUSE_ROOT_ID, 100, Bytes(new FuseOpenIn())));
        Assert.Equal((0, 30ul), (header.Error, header.Unique));
        var open = Read<FuseOpenOut>(payload);
        Assert.Equal((0ul, TestSession.DirectoryOpenFlags), (open.Fh, open.OpenFlags));
        Assert.Equal(0, device.Calls);
    }
}
