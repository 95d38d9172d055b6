using Kmonitor.Fuse;
using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;
using Tmds.Linux;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>A request is answered once: the first answer is sent, any later one is dropped and says so.</summary>
public class ReplyOnceTests
{
    private static byte[] Flush(ulong unique) => Request(FuseOpcode.FUSE_FLUSH, unique, 0, 100, Bytes(new FuseFlushIn { Fh = 1 }));

    private static byte[] ReadRequest(ulong unique) =>
        Request(FuseOpcode.FUSE_READ, unique, 2, 100, Bytes(new FuseReadIn { Fh = 9, Size = 4096 }));

    [Fact]
    public void A_second_answer_is_not_sent()
    {
        var answers = new List<bool>();
        var device = new ScriptedDevice
        {
            AnswerFlush = reply =>
            {
                answers.Add(reply.Success());
                answers.Add(reply.Error(LibC.EIO));
                answers.Add(reply.Success());
            },
        };
        var (header, _) = TestSession.Cuse(device).Ask(Flush(50));
        Assert.Equal((0, 50ul), (header.Error, header.Unique));
        Assert.Equal([true, false, false], answers);
    }

    [Fact]
    public void Copies_of_a_reply_share_the_rule()
    {
        ReadReply? kept = null;
        var device = new ScriptedDevice { AnswerRead = reply => kept = reply };
        var session = TestSession.Cuse(device);
        session.Serve(ReadRequest(51));
        ReadReply first = kept!.Value, second = kept!.Value;
        Assert.True(first.Data("a"u8));
        Assert.False(second.Error(LibC.EINTR));
        Assert.Single(session.Channel.TakeReplies());
    }

    [Fact]
    public void Of_two_threads_answering_at_once_exactly_one_is_sent()
    {
        for (int round = 0; round < 200; round++)
        {
            ReadReply? kept = null;
            var device = new ScriptedDevice { AnswerRead = reply => kept = reply };
            var session = TestSession.Mount(device);
            session.Serve(ReadRequest(52));
            using var start = new Barrier(2);
            bool record = false, interrupt = false;
            var recordThread = new Thread(() => { start.SignalAndWait(); record = kept!.Value.Data("record"u8); });
            var interruptThread = new Thread(() => { start.SignalAndWait(); interrupt = kept!.Value.Error(LibC.EINTR); });
            recordThread.Start();
            interruptThread.Start();
            recordThread.Join();
            interruptThread.Join();

            Assert.True(record ^ interrupt);
            var (header, payload) = Reply(Assert.Single(session.Channel.TakeReplies()));
            Assert.Equal(record ? 0 : -LibC.EINTR, header.Error);
            Assert.Equal(record ? "record"u8.ToArray() : [], payload);
        }
    }

    [Fact]
    public void A_handler_that_answered_then_threw_keeps_its_answer()
    {
        var device = new ScriptedDevice
        {
            AnswerFlush = reply =>
            {
                reply.Success();
                throw new InvalidOperationException("broken after answering");
            },
        };
        var session = TestSession.Cuse(device);
        var (header, _) = session.Ask(Flush(53));
        Assert.Equal(0, header.Error);
        Assert.Equal(FuseLogLevel.Error, Assert.Single(session.Log).Level);
    }

    [Fact]
    public void A_handler_that_kept_its_reply_then_threw_is_answered_EIO_and_the_late_answer_dropped()
    {
        ReadReply? kept = null;
        var device = new ScriptedDevice
        {
            AnswerRead = reply =>
            {
                kept = reply;
                throw new InvalidOperationException("broken after keeping");
            },
        };
        var session = TestSession.Cuse(device);
        Assert.Equal(-LibC.EIO, session.Ask(ReadRequest(54)).Header.Error);
        Assert.False(kept!.Value.Data("late"u8));
        Assert.Empty(session.Channel.TakeReplies());
    }

    [Fact]
    public void An_answer_after_the_channel_closed_is_dropped_quietly()
    {
        ReadReply? kept = null;
        var device = new ScriptedDevice { AnswerRead = reply => kept = reply };
        var session = TestSession.Mount(device);
        session.Serve(ReadRequest(55));
        session.Channel.Closed = true;
        Assert.True(kept!.Value.Error(LibC.EINTR)); // answered, as far as the device is concerned: nobody is left to tell
        Assert.Empty(session.Channel.TakeReplies());
        Assert.Empty(session.Log);
    }
}
