using Kmonitor.Fuse.Protocol;
using Tmds.Linux;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_POLL: the device answers the ready bits, and keeps the kh when the kernel asks to be notified.</summary>
public class PollTests
{
    private static byte[] PollRequest(ulong unique, ulong fh, ulong kh, uint flags, uint events) =>
        Request(FuseOpcode.FUSE_POLL, unique, 2, 100, Bytes(new FusePollIn { Fh = fh, Kh = kh, Flags = flags, Events = events }));

    [Fact]
    public void Poll_passes_the_handle_kh_flags_and_events_and_answers_the_ready_bits()
    {
        var device = new ScriptedDevice { AnswerPoll = reply => reply.Ready((uint)LibC.POLLIN) };
        foreach (var session in new[] { TestSession.Mount(device), TestSession.Cuse(device) })
        {
            var (header, payload) = session.Ask(PollRequest(30, 9, 0x1234_5678_9ABC, FuseConstants.FUSE_POLL_SCHEDULE_NOTIFY, (uint)(LibC.POLLIN | LibC.POLLPRI)));
            Assert.Equal((0, 30ul), (header.Error, header.Unique));
            Assert.Equal(8, payload.Length); // struct fuse_poll_out: revents, padding
            Assert.Equal((uint)LibC.POLLIN, Read<FusePollOut>(payload).Revents);
            Assert.Equal(0u, Read<FusePollOut>(payload).Padding);
            var seen = device.PollRequest;
            Assert.Equal((9ul, 0x1234_5678_9ABCul, FuseConstants.FUSE_POLL_SCHEDULE_NOTIFY, (uint)(LibC.POLLIN | LibC.POLLPRI)),
                         (seen.Fh, seen.Kh, seen.Flags, seen.Events));
            Assert.Equal(100u, device.Caller.Pid);
        }
        Assert.Equal(2, device.Calls);
    }

    [Fact]
    public void Nothing_ready_is_revents_0()
    {
        var device = new ScriptedDevice { AnswerPoll = reply => reply.Ready(0) };
        var (header, payload) = TestSession.Cuse(device).Ask(PollRequest(31, 9, 5, 0, (uint)LibC.POLLIN));
        Assert.Equal(0, header.Error);
        Assert.Equal(0u, Read<FusePollOut>(payload).Revents);
    }

    [Fact]
    public void A_device_that_does_not_poll_answers_ENOSYS_so_the_kernel_stops_asking()
    {
        var (header, payload) = TestSession.Mount(new ScriptedDevice()).Ask(PollRequest(32, 9, 5, 0, (uint)LibC.POLLIN));
        Assert.Equal((-LibC.ENOSYS, 32ul), (header.Error, header.Unique));
        Assert.Empty(payload);
    }
}
