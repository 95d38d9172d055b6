using Kmonitor.Fuse;
using Kmonitor.Fuse.Protocol;
using Tmds.Linux;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>What the session does around the handlers: the opcode table's gaps, failures, the end of the channel.</summary>
public class SessionTests
{
    [Theory]
    [InlineData(FuseOpcode.FUSE_STATFS)]
    [InlineData(FuseOpcode.FUSE_SETATTR)]
    [InlineData((FuseOpcode)9999)]
    public void An_opcode_nobody_answers_is_ENOSYS(FuseOpcode opcode)
    {
        var device = new ScriptedDevice();
        foreach (var session in new[] { TestSession.Mount(device), TestSession.Cuse(device) })
        {
            var (header, payload) = session.Ask(Request(opcode, 21, 1, 100));
            Assert.Equal((-LibC.ENOSYS, 21ul), (header.Error, header.Unique));
            Assert.Empty(payload);
        }
        Assert.Equal(0, device.Calls);
    }

    [Theory]
    [InlineData(FuseOpcode.FUSE_LOOKUP)]
    [InlineData(FuseOpcode.FUSE_GETATTR)]
    [InlineData(FuseOpcode.FUSE_OPENDIR)]
    [InlineData(FuseOpcode.FUSE_READDIR)]
    [InlineData(FuseOpcode.FUSE_RELEASEDIR)]
    [InlineData(FuseOpcode.FUSE_INIT)]
    public void A_cuse_session_answers_no_file_system_opcode(FuseOpcode opcode)
    {
        var (header, _) = TestSession.Cuse(new ScriptedDevice()).Ask(Request(opcode, 3, 1, 100, new byte[64]));
        Assert.Equal(-LibC.ENOSYS, header.Error);
    }

    [Fact]
    public void A_mount_answers_no_cuse_init()
    {
        var (header, _) = TestSession.Mount(new ScriptedDevice()).Ask(Request(FuseOpcode.CUSE_INIT, 3, 0, 0, Bytes(new CuseInitIn { Major = 7, Minor = 31 })));
        Assert.Equal(-LibC.ENOSYS, header.Error);
    }

    [Fact]
    public void A_handler_that_throws_fails_its_request_with_EIO_and_one_log_line()
    {
        var device = new ScriptedDevice { AnswerFlush = _ => throw new InvalidOperationException("broken") };
        var session = TestSession.Cuse(device);
        var (header, _) = session.Ask(Request(FuseOpcode.FUSE_FLUSH, 44, 0, 100, Bytes(new FuseFlushIn { Fh = 1 })));
        Assert.Equal((-LibC.EIO, 44ul), (header.Error, header.Unique));
        var line = Assert.Single(session.Log);
        Assert.Equal((FuseLogLevel.Error, "request 44 failed: InvalidOperationException: broken"), line);
    }

    [Fact]
    public void A_malformed_request_is_logged_and_not_answered()
    {
        var session = TestSession.Cuse(new ScriptedDevice());
        var message = Request(FuseOpcode.FUSE_FLUSH, 45, 0, 100, new byte[24]);
        message[0] = 0xFF; // the header claims 255 bytes
        session.AskExpectingNoReply(message);
        var line = Assert.Single(session.Log);
        Assert.Equal(FuseLogLevel.Error, line.Level);
        Assert.StartsWith("request 0 failed: FuseProtocolException:", line.Message);
    }

    [Fact]
    public void A_reply_the_kernel_refuses_is_logged_unless_its_request_was_interrupted()
    {
        var session = TestSession.Cuse(new ScriptedDevice());
        session.Channel.WriteError = LibC.ENOENT;
        session.Serve(Request(FuseOpcode.FUSE_FLUSH, 46, 0, 100, new byte[24]));
        Assert.Empty(session.Log);

        session.Channel.WriteError = LibC.EINVAL;
        session.Serve(Request(FuseOpcode.FUSE_FLUSH, 47, 0, 100, new byte[24]));
        var line = Assert.Single(session.Log);
        Assert.Equal(FuseLogLevel.Warning, line.Level);
        Assert.StartsWith("writing the reply to request 47 failed: ", line.Message);
    }

    [Fact]
    public void Run_returns_ENODEV_quietly_when_the_kernel_ends_the_connection()
    {
        var session = TestSession.Mount(new ScriptedDevice());
        session.Channel.EndOfRequests = -LibC.ENODEV;
        Assert.Equal(LibC.ENODEV, session.Serve());
        Assert.Empty(session.Log);
    }

    [Fact]
    public void Run_returns_and_logs_another_read_error()
    {
        var session = TestSession.Mount(new ScriptedDevice());
        session.Channel.EndOfRequests = -LibC.EIO;
        Assert.Equal(LibC.EIO, session.Serve());
        var line = Assert.Single(session.Log);
        Assert.Equal(FuseLogLevel.Error, line.Level);
        Assert.StartsWith("reading scripted failed: ", line.Message);
    }
}
