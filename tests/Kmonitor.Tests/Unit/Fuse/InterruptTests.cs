using Kmonitor.Fuse.Protocol;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_INTERRUPT, which the protocol never answers; the request it names has its own reply.</summary>
public class InterruptTests
{
    [Fact]
    public void Interrupt_gets_no_reply()
    {
        var device = new ScriptedDevice();
        foreach (var session in new[] { TestSession.Mount(device), TestSession.Cuse(device) })
            session.AskExpectingNoReply(Request(FuseOpcode.FUSE_INTERRUPT, 15, 0, 0, Bytes(14ul)));
        Assert.Equal(0, device.Calls);
    }
}
