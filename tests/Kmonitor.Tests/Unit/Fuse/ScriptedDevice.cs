using Kmonitor.Fuse;
using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>One ioctl as the device saw it (IoctlCall is a ref struct, so it is copied out).</summary>
internal sealed record SeenIoctl(int CallerTid, uint CallerUid, ulong Fh, uint Cmd, ulong Arg, byte[] Input, bool Unrestricted);

/// <summary>
/// A character device that records what each request decoded to and answers as the test says
/// (by default: success, fh 1; POLL ENOSYS, as a device without poll would). The protocol layer
/// must carry both faithfully.
/// </summary>
internal sealed class ScriptedDevice : ICharacterDevice
{
    public FuseInHeader Caller { get; private set; }
    public int Calls { get; private set; }

    public FuseOpenIn OpenRequest { get; private set; }
    public Action<OpenReply> AnswerOpen { get; set; } = reply => reply.Opened(1, 0);

    public FuseReadIn ReadRequest { get; private set; }
    public Action<ReadReply> AnswerRead { get; set; } = reply => reply.Data([]);

    public FuseWriteIn WriteRequest { get; private set; }
    public byte[] WriteData { get; private set; } = [];
    public Action<WriteReply> AnswerWrite { get; set; } = reply => reply.Written(0);

    public FuseFlushIn FlushRequest { get; private set; }
    public Action<FuseReply> AnswerFlush { get; set; } = reply => reply.Success();

    public FuseFsyncIn FsyncRequest { get; private set; }
    public Action<FuseReply> AnswerFsync { get; set; } = reply => reply.Success();

    public FuseReleaseIn ReleaseRequest { get; private set; }
    public Action<FuseReply> AnswerRelease { get; set; } = reply => reply.Success();

    public SeenIoctl? Ioctl { get; private set; }
    public Action<IoctlReply> AnswerIoctl { get; set; } = reply => reply.Answer(IoctlOutcome.Done(0));

    public FusePollIn PollRequest { get; private set; }
    public Action<PollReply> AnswerPoll { get; set; } = reply => reply.Error(Tmds.Linux.LibC.ENOSYS);

    /// <summary>The uniques INTERRUPT named, in order.</summary>
    public List<ulong> Interrupted { get; } = [];
    public Action<ulong> OnInterrupt { get; set; } = _ => { };

    void ICharacterDevice.Open(in FuseInHeader caller, in FuseOpenIn request, OpenReply reply)
    {
        Seen(caller);
        OpenRequest = request;
        AnswerOpen(reply);
    }

    void ICharacterDevice.Read(in FuseInHeader caller, in FuseReadIn request, ReadReply reply)
    {
        Seen(caller);
        ReadRequest = request;
        AnswerRead(reply);
    }

    void ICharacterDevice.Write(in FuseInHeader caller, in FuseWriteIn request, ReadOnlySpan<byte> data, WriteReply reply)
    {
        Seen(caller);
        WriteRequest = request;
        WriteData = data.ToArray();
        AnswerWrite(reply);
    }

    void ICharacterDevice.Flush(in FuseInHeader caller, in FuseFlushIn request, FuseReply reply)
    {
        Seen(caller);
        FlushRequest = request;
        AnswerFlush(reply);
    }

    void ICharacterDevice.Fsync(in FuseInHeader caller, in FuseFsyncIn request, FuseReply reply)
    {
        Seen(caller);
        FsyncRequest = request;
        AnswerFsync(reply);
    }

    void ICharacterDevice.Release(in FuseInHeader caller, in FuseReleaseIn request, FuseReply reply)
    {
        Seen(caller);
        ReleaseRequest = request;
        AnswerRelease(reply);
    }

    void ICharacterDevice.Ioctl(in IoctlCall call, IoctlReply reply)
    {
        Calls++;
        Ioctl = new SeenIoctl(call.CallerTid, call.CallerUid, call.Fh, call.Cmd, call.Arg, call.Input.ToArray(), call.Unrestricted);
        AnswerIoctl(reply);
    }

    void ICharacterDevice.Poll(in FuseInHeader caller, in FusePollIn request, PollReply reply)
    {
        Seen(caller);
        PollRequest = request;
        AnswerPoll(reply);
    }

    void ICharacterDevice.Interrupt(in FuseInHeader caller, ulong interruptedUnique)
    {
        Seen(caller);
        Interrupted.Add(interruptedUnique);
        OnInterrupt(interruptedUnique);
    }

    private void Seen(in FuseInHeader caller)
    {
        Calls++;
        Caller = caller;
    }
}
