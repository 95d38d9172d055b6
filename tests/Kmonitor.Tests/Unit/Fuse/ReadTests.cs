using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;
using Tmds.Linux;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_READ: the device answers with bytes or an errno, at once or later from another thread.</summary>
public class ReadTests
{
    private static byte[] ReadRequest(ulong unique, ulong fh, ulong offset, uint size) =>
        Request(FuseOpcode.FUSE_READ, unique, 0, 100, Bytes(new FuseReadIn { Fh = fh, Offset = offset, Size = size }));

    [Fact]
    public void Read_passes_the_handle_offset_and_size_and_answers_the_bytes()
    {
        var device = new ScriptedDevice { AnswerRead = reply => reply.Data("record"u8) };
        var (header, payload) = TestSession.Cuse(device).Ask(ReadRequest(6, 9, 0, 4096));
        Assert.Equal((0, 6ul), (header.Error, header.Unique));
        Assert.Equal("record"u8.ToArray(), payload);
        Assert.Equal((9ul, 0ul, 4096u), (device.ReadRequest.Fh, device.ReadRequest.Offset, device.ReadRequest.Size));
    }

    [Fact]
    public void Read_answers_the_errno_the_device_chose()
    {
        var device = new ScriptedDevice { AnswerRead = reply => reply.Error(LibC.EINVAL) };
        Assert.Equal(-LibC.EINVAL, TestSession.Cuse(device).Ask(ReadRequest(6, 9, 0, 4096)).Header.Error);
    }

    [Fact]
    public void A_read_of_the_largest_size_fits_in_one_reply()
    {
        var data = new byte[Kmonitor.Fuse.FuseSession.MaxWrite];
        data[^1] = 0x5A;
        var device = new ScriptedDevice { AnswerRead = reply => reply.Data(data) };
        var (_, payload) = TestSession.Cuse(device).Ask(ReadRequest(6, 9, 0, Kmonitor.Fuse.FuseSession.MaxWrite));
        Assert.Equal(data, payload);
    }

    [Fact]
    public void A_kept_read_is_answered_later_from_another_thread_while_the_session_goes_on()
    {
        ReadReply? kept = null;
        var device = new ScriptedDevice { AnswerRead = reply => kept = reply };
        var session = TestSession.Cuse(device);

        // The read is kept; the flush after it is answered; the session has served both and returned.
        Assert.Equal(0, session.Serve(ReadRequest(70, 9, 0, 4096), Request(FuseOpcode.FUSE_FLUSH, 71, 0, 100, Bytes(new FuseFlushIn { Fh = 9 }))));
        var first = Reply(Assert.Single(session.Channel.TakeReplies()));
        Assert.Equal(71ul, first.Header.Unique);

        var answering = new Thread(() => kept!.Value.Data("later"u8));
        answering.Start();
        var (header, payload) = Reply(session.Channel.NextReply(TimeSpan.FromSeconds(10)));
        answering.Join();
        Assert.Equal((0, 70ul), (header.Error, header.Unique));
        Assert.Equal("later"u8.ToArray(), payload);
    }
}
