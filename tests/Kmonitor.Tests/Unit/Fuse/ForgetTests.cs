using Kmonitor.Fuse.Protocol;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_FORGET and FUSE_BATCH_FORGET, which the protocol never answers.</summary>
public class ForgetTests
{
    [Theory]
    [InlineData(FuseOpcode.FUSE_FORGET)]
    [InlineData(FuseOpcode.FUSE_BATCH_FORGET)]
    public void Forget_gets_no_reply(FuseOpcode opcode)
    {
        var device = new ScriptedDevice();
        TestSession.Mount(device).AskExpectingNoReply(Request(opcode, 13, 2, 0, Bytes(1ul)));
        Assert.Equal(0, device.Calls);
    }
}
