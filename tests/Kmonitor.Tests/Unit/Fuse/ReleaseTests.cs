using Kmonitor.Fuse.FileSystem;
using Kmonitor.Fuse.Protocol;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_RELEASE: the last close of an open file, which no thread waits on (pid 0).</summary>
public class ReleaseTests
{
    [Fact]
    public void Release_passes_the_handle_with_no_caller_and_answers_the_device_s_choice()
    {
        var device = new ScriptedDevice();
        var release = Request(FuseOpcode.FUSE_RELEASE, 12, OneFileFileSystem.FileNodeId, 0, Bytes(new FuseReleaseIn { Fh = 77, Flags = 2 }));
        foreach (var session in new[] { TestSession.Cuse(device), TestSession.Mount(device) })
        {
            var (header, payload) = session.Ask(release);
            Assert.Equal((0, 12ul), (header.Error, header.Unique));
            Assert.Empty(payload);
            Assert.Equal((77ul, 2u, 0u), (device.ReleaseRequest.Fh, device.ReleaseRequest.Flags, device.Caller.Pid));
        }
        Assert.Equal(2, device.Calls);
    }
}
