using Kmonitor.Fuse.Protocol;
using Tmds.Linux;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_FSYNC: the device answers.</summary>
public class FsyncTests
{
    [Fact]
    public void Fsync_passes_the_handle_and_flags_and_answers_the_device_s_choice()
    {
        var device = new ScriptedDevice { AnswerFsync = reply => reply.Error(LibC.EINVAL) };
        var (header, payload) = TestSession.Cuse(device).Ask(Request(FuseOpcode.FUSE_FSYNC, 11, 0, 100, Bytes(new FuseFsyncIn { Fh = 6, FsyncFlags = 1 })));
        Assert.Equal((-LibC.EINVAL, 11ul), (header.Error, header.Unique));
        Assert.Empty(payload);
        Assert.Equal((6ul, 1u), (device.FsyncRequest.Fh, device.FsyncRequest.FsyncFlags));
    }
}
