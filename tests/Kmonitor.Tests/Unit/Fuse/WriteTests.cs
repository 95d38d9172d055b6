using Kmonitor.Fuse.Protocol;
using Tmds.Linux;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_WRITE: the device gets the bytes and answers how many it took, or an errno.</summary>
public class WriteTests
{
    [Fact]
    public void Write_passes_the_bytes_and_answers_the_count_taken()
    {
        var device = new ScriptedDevice { AnswerWrite = reply => reply.Written(3) };
        var request = Request(FuseOpcode.FUSE_WRITE, 7, 0, 100, Bytes(new FuseWriteIn { Fh = 4, Offset = 0, Size = 5 }), "hello"u8.ToArray());
        var (header, payload) = TestSession.Cuse(device).Ask(request);
        Assert.Equal((0, 7ul), (header.Error, header.Unique));
        Assert.Equal(3u, Read<FuseWriteOut>(payload).Size);
        Assert.Equal(4ul, device.WriteRequest.Fh);
        Assert.Equal("hello"u8.ToArray(), device.WriteData);
    }

    [Fact]
    public void Write_data_ends_at_the_size_the_request_gives()
    {
        var device = new ScriptedDevice();
        TestSession.Cuse(device).Ask(Request(FuseOpcode.FUSE_WRITE, 7, 0, 100, Bytes(new FuseWriteIn { Fh = 4, Size = 2 }), "hello"u8.ToArray()));
        Assert.Equal("he"u8.ToArray(), device.WriteData);
    }

    [Fact]
    public void Write_answers_the_errno_the_device_chose()
    {
        var device = new ScriptedDevice { AnswerWrite = reply => reply.Error(LibC.EINVAL) };
        var (header, payload) = TestSession.Cuse(device).Ask(Request(FuseOpcode.FUSE_WRITE, 8, 0, 100, Bytes(new FuseWriteIn { Size = 1 }), [1]));
        Assert.Equal(-LibC.EINVAL, header.Error);
        Assert.Empty(payload);
    }
}
