using Kmonitor.Fuse.Protocol;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_DESTROY: the connection is ending; answered with an empty success.</summary>
public class DestroyTests
{
    [Fact]
    public void Destroy_succeeds_with_no_payload()
    {
        var (header, payload) = TestSession.Mount(new ScriptedDevice()).Ask(Request(FuseOpcode.FUSE_DESTROY, 16, 0, 0));
        Assert.Equal((0, 16ul), (header.Error, header.Unique));
        Assert.Empty(payload);
    }
}
