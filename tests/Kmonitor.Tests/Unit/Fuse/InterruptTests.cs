using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;
using Tmds.Linux;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>
/// FUSE_INTERRUPT, which the protocol never answers: it reaches the device, which answers the request
/// it names (a kept READ) with EINTR. The kernel's INTERRUPT carries its own unique (the interrupted
/// one with the low bit set) and names the interrupted one in fuse_interrupt_in.
/// </summary>
public class InterruptTests
{
    private static byte[] Interrupt(ulong interrupted) =>
        Request(FuseOpcode.FUSE_INTERRUPT, interrupted | 1, 0, 0, Bytes(new FuseInterruptIn { Unique = interrupted }));

    private static byte[] ReadRequest(ulong unique) =>
        Request(FuseOpcode.FUSE_READ, unique, 2, 100, Bytes(new FuseReadIn { Fh = 9, Size = 4096 }));

    [Fact]
    public void Interrupt_reaches_the_device_with_the_unique_it_names_and_gets_no_reply()
    {
        var device = new ScriptedDevice();
        foreach (var session in new[] { TestSession.Mount(device), TestSession.Cuse(device) })
            session.AskExpectingNoReply(Interrupt(14));
        Assert.Equal([14ul, 14ul], device.Interrupted);
    }

    [Fact]
    public void A_kept_read_is_answered_EINTR_and_the_record_that_comes_later_is_dropped()
    {
        ReadReply? kept = null;
        var device = new ScriptedDevice { AnswerRead = reply => kept = reply };
        device.OnInterrupt = unique =>
        {
            if (kept is { } read && read.Unique == unique)
                Assert.True(read.Error(LibC.EINTR));
        };
        var session = TestSession.Mount(device);

        Assert.Equal(0, session.Serve(ReadRequest(70), Interrupt(70)));
        var (header, payload) = Reply(Assert.Single(session.Channel.TakeReplies()));
        Assert.Equal((-LibC.EINTR, 70ul), (header.Error, header.Unique));
        Assert.Empty(payload);

        // The record the read was waiting for, from the thread that queues records: not sent.
        bool sent = true;
        var late = new Thread(() => sent = kept!.Value.Data("record"u8));
        late.Start();
        late.Join();
        Assert.False(sent);
        Assert.Empty(session.Channel.TakeReplies());
    }

    [Fact]
    public void An_interrupt_for_a_request_answered_already_changes_nothing()
    {
        ReadReply? kept = null;
        var device = new ScriptedDevice { AnswerRead = reply => kept = reply };
        device.OnInterrupt = unique =>
        {
            if (kept is { } read && read.Unique == unique)
                read.Error(LibC.EINTR);
        };
        var session = TestSession.Cuse(device);
        session.Serve(ReadRequest(80));
        Assert.True(kept!.Value.Data("record"u8));
        Assert.Equal(0, Reply(Assert.Single(session.Channel.TakeReplies())).Header.Error);

        session.AskExpectingNoReply(Interrupt(80));
        Assert.Equal([80ul], device.Interrupted);
    }
}
