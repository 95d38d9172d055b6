using Kmonitor.Fuse.Protocol;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_RELEASEDIR on the one-file mount.</summary>
public class ReleasedirTests
{
    [Fact]
    public void Releasedir_succeeds_without_a_device_call()
    {
        var device = new ScriptedDevice();
        var (header, payload) = TestSession.Mount(device).Ask(Request(FuseOpcode.FUSE_RELEASEDIR, 31, FuseConstants.FUSE_ROOT_ID, 0, Bytes(new FuseReleaseIn())));
        Assert.Equal((0, 31ul), (header.Error, header.Unique));
        Assert.Empty(payload);
        Assert.Equal(0, device.Calls);
    }
}
