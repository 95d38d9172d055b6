using Tmds.Linux;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FuseSession.NotifyPoll: the FUSE_NOTIFY_POLL message, written unasked from any thread.</summary>
public class NotifyPollTests
{
    [Fact]
    public void NotifyPoll_writes_the_header_with_unique_0_and_code_1_then_the_kh()
    {
        var session = TestSession.Cuse(new ScriptedDevice());
        var notifying = new Thread(() => session.Session.NotifyPoll(0x0102_0304_0506_0708));
        notifying.Start();
        notifying.Join();

        // fuse_out_header { u32 len = 24; s32 error = FUSE_NOTIFY_POLL; u64 unique = 0; }
        // then fuse_notify_poll_wakeup_out { u64 kh; }, little-endian: the bytes fuse_notify_poll reads.
        byte[] expected =
        [
            24, 0, 0, 0,
            1, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0,
            8, 7, 6, 5, 4, 3, 2, 1,
        ];
        Assert.Equal(expected, Assert.Single(session.Channel.TakeReplies()));
        Assert.Empty(session.Log);
    }

    [Fact]
    public void A_kh_the_kernel_no_longer_knows_is_not_an_error()
    {
        var session = TestSession.Mount(new ScriptedDevice());
        session.Channel.WriteError = LibC.ENOENT;
        session.Session.NotifyPoll(5);
        Assert.Single(session.Channel.TakeReplies());
        Assert.Empty(session.Log);
    }

    [Fact]
    public void Another_write_error_is_logged()
    {
        var session = TestSession.Mount(new ScriptedDevice());
        session.Channel.WriteError = LibC.EINVAL;
        session.Session.NotifyPoll(5);
        var line = Assert.Single(session.Log);
        Assert.Equal(Kmonitor.Fuse.FuseLogLevel.Warning, line.Level);
        Assert.StartsWith("writing the poll notification for kh 5 failed: ", line.Message);
    }

    [Fact]
    public void A_closed_session_drops_the_notification_quietly()
    {
        var session = TestSession.Cuse(new ScriptedDevice());
        session.Channel.Closed = true;
        session.Session.NotifyPoll(5);
        Assert.Empty(session.Channel.TakeReplies());
        Assert.Empty(session.Log);
    }
}
