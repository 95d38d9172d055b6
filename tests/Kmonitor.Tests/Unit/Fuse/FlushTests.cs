using Kmonitor.Fuse.Protocol;
using Tmds.Linux;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_FLUSH: one close(2) of the file; the device answers.</summary>
public class FlushTests
{
    [Fact]
    public void Flush_passes_the_handle_and_lock_owner_and_answers_the_device_s_choice()
    {
        var device = new ScriptedDevice();
        var session = TestSession.Cuse(device);
        var (header, payload) = session.Ask(Request(FuseOpcode.FUSE_FLUSH, 9, 0, 555, Bytes(new FuseFlushIn { Fh = 3, LockOwner = 0xABCD })));
        Assert.Equal((0, 9ul), (header.Error, header.Unique));
        Assert.Empty(payload);
        Assert.Equal((3ul, 0xABCDul, 555u), (device.FlushRequest.Fh, device.FlushRequest.LockOwner, device.Caller.Pid));

        device.AnswerFlush = reply => reply.Error(LibC.EIO);
        Assert.Equal(-LibC.EIO, session.Ask(Request(FuseOpcode.FUSE_FLUSH, 10, 0, 555, Bytes(new FuseFlushIn { Fh = 3 }))).Header.Error);
    }
}
