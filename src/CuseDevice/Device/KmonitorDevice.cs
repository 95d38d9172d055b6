using Kmonitor.Abi;
using Kmonitor.Fuse;
using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;
using Kmonitor.Interop;
using Kmonitor.Registrations;

namespace Kmonitor.Daemon.Device;

/// <summary>
/// /dev/kmonitor's file operations: the 2004 driver's kmonitor_fops (open, the two ioctls, release),
/// and the records read from the file. Every answer the device gives, to the FUSE mount's file and
/// to the CUSE device alike, is chosen here.
/// </summary>
public sealed class KmonitorDevice(KmonitorService service) : ICharacterDevice
{
    /// <summary>
    /// NOFLUSH: every close() in every process that holds the file (children inherit it) would otherwise
    /// cost a round trip to the daemon. DIRECT_IO and NONSEEKABLE: behave like a character device.
    /// The FUSE mount opens its directory with these flags.
    /// </summary>
    public const uint OpenFlags = FuseConstants.FOPEN_NOFLUSH | FuseConstants.FOPEN_DIRECT_IO | FuseConstants.FOPEN_NONSEEKABLE;

    /// <summary>
    /// The device's files add STREAM: each read(2) then starts at offset 0 (as CUSE's always do), so a
    /// READ at a later offset is the rest of one large read(2) that the kernel split, never a new one.
    /// </summary>
    public const uint FileOpenFlags = OpenFlags | FuseConstants.FOPEN_STREAM;

    /// <summary>
    /// Called before an answer that changes the state a monitor relies on goes out (the state journal
    /// under systemd, so a killed daemon's successor has it); null otherwise.
    /// </summary>
    public Action? StateChanged { get; set; }

    /// <summary>The reads waiting for a record.</summary>
    public ParkedReads ParkedReads { get; } = new();

    /// <summary>Opens a file of the device; returns 0 and the handle, or an errno.</summary>
    public int Open(int callerTid, uint openFlags, out ulong fh)
    {
        fh = service.Files.Open().Handle;
        return 0;
    }

    void ICharacterDevice.Open(in FuseInHeader caller, in FuseOpenIn request, OpenReply reply)
    {
        int error = Open((int)caller.Pid, request.Flags, out ulong fh);
        StateChanged?.Invoke();
        if (error != 0)
            reply.Error(error);
        else
            reply.Opened(fh, FileOpenFlags);
    }

    /// <summary>
    /// The answer to an ioctl: at once, or later when it needs the dispatcher (SUBSCRIBE) or a scan of
    /// /proc (a caller in another pid namespace); the session serves other callers meanwhile.
    /// </summary>
    public ValueTask<IoctlOutcome> Answer(in IoctlCall call)
    {
        int argumentSize = ArgumentSize(call.Cmd);
        if (argumentSize == 0)
            return new(IoctlOutcome.Done(Errno.EINVAL)); // as the original, and without asking for the argument
        if (service.Files.Find(call.Fh) is not DeviceFile file)
            return new(IoctlOutcome.Done(Errno.EBADF));
        bool copiesBack = call.Cmd == SubscriptionAbi.KMONITOR_IOWR_SUBSCRIBE; // its reply carries the id
        if (call.Input.Length < argumentSize || (copiesBack && call.OutputSize < argumentSize))
        {
            // CUSE sends the first ioctl without its argument: ask the kernel to copy it (and back).
            if (!call.Unrestricted)
                return new(IoctlOutcome.Done(Errno.EINVAL));
            return new(copiesBack ? IoctlOutcome.RetryInOut(call.Arg, (uint)argumentSize) : IoctlOutcome.Retry(call.Arg, (uint)argumentSize));
        }
        switch (call.Cmd)
        {
            case SubscriptionAbi.KMONITOR_IOWR_SUBSCRIBE:
                return Subscribe(file, call.CallerTid, KmonitorSubscription.Read(call.Input));
            case SubscriptionAbi.KMONITOR_IOW_UNSUBSCRIBE:
                return new(IoctlOutcome.Done(service.Subscriber.Unsubscribe(file, BitConverter.ToUInt32(call.Input))));
        }
        var cmd = KmonitorCmd.Read(call.Input);
        var error = call.Cmd == KmonitorAbi.KMONITOR_IOW_REGISTER
            ? service.Registrar.Register(file, call.CallerTid, cmd, call.CallerUid)
            : service.Registrar.Deregister(file, call.CallerTid, cmd);
        return error.IsCompleted ? new(IoctlOutcome.Done(error.Result)) : Later(error);

        static async ValueTask<IoctlOutcome> Later(ValueTask<int> error) => IoctlOutcome.Done(await error);
    }

    /// <summary>The bytes of the argument an ioctl of the device takes; 0 for a number it does not know.</summary>
    private static int ArgumentSize(uint cmd) => cmd switch
    {
        KmonitorAbi.KMONITOR_IOW_REGISTER or KmonitorAbi.KMONITOR_IOW_DEREGISTER => KmonitorCmd.Size,
        SubscriptionAbi.KMONITOR_IOWR_SUBSCRIBE => KmonitorSubscription.Size,
        SubscriptionAbi.KMONITOR_IOW_UNSUBSCRIBE => sizeof(uint),
        _ => 0,
    };

    /// <summary>SUBSCRIBE: answered once the dispatcher has installed it, with the argument sent back holding the new id.</summary>
    private async ValueTask<IoctlOutcome> Subscribe(DeviceFile file, int callerTid, KmonitorSubscription request)
    {
        var (error, id) = await service.Subscriber.Subscribe(file, callerTid, request);
        if (error != 0)
            return IoctlOutcome.Done(error);
        request.id = id;
        var reply = new byte[KmonitorSubscription.Size];
        request.Write(reply);
        return IoctlOutcome.Succeeded(reply);
    }

    /// <summary>The answer to an ioctl, waited for when it comes later (for tests, which have no session).</summary>
    public IoctlOutcome Ioctl(in IoctlCall call)
    {
        var answer = Answer(call);
        return answer.IsCompleted ? answer.Result : answer.AsTask().GetAwaiter().GetResult();
    }

    void ICharacterDevice.Ioctl(in IoctlCall call, IoctlReply reply)
    {
        var answer = Answer(call);
        if (answer.IsCompleted)
        {
            StateChanged?.Invoke();
            reply.Answer(answer.Result);
            return;
        }
        // Answered from the thread that finishes the scan; the session's thread has gone on meanwhile.
        answer.AsTask().ContinueWith(done =>
        {
            try
            {
                StateChanged?.Invoke();
                reply.Answer(done.Result);
            }
            catch (ObjectDisposedException)
            {
                // The daemon stopped meanwhile: the connection, and the caller's wait, ended with it.
            }
        }, TaskContinuationOptions.ExecuteSynchronously);
    }

    /// <summary>The last close of a file. Carries no caller: RELEASE comes with pid 0.</summary>
    public void Release(ulong fh)
    {
        if (service.Files.Find(fh) is DeviceFile file)
            service.Files.Close(file);
    }

    void ICharacterDevice.Release(in FuseInHeader caller, in FuseReleaseIn request, FuseReply reply)
    {
        Release(request.Fh);
        StateChanged?.Invoke();
        reply.Success();
    }

    /// <summary>Nothing is buffered; opened with NOFLUSH, so rarely sent.</summary>
    void ICharacterDevice.Flush(in FuseInHeader caller, in FuseFlushIn request, FuseReply reply) => reply.Success();

    /// <summary>
    /// read(2): as many whole records as fit. With none queued the read blocks (parked until a record
    /// comes or a signal interrupts it), or fails EAGAIN under O_NONBLOCK. The rest of a read(2) the
    /// kernel split into several READs never blocks: the reader already has records.
    /// </summary>
    void ICharacterDevice.Read(in FuseInHeader caller, in FuseReadIn request, ReadReply reply)
    {
        if (service.Files.Find(request.Fh) is not DeviceFile file)
        {
            reply.Error(Errno.EBADF);
            return;
        }
        if (request.Size < KmonitorEventRecord.Size)
        {
            reply.Error(Errno.EINVAL);
            return;
        }
        int size = (int)Math.Min(request.Size, (uint)(file.Records.Capacity + 1) * KmonitorEventRecord.Size);
        bool nonBlocking = (request.Flags & Tmds.Linux.LibC.O_NONBLOCK) != 0; // fuse_read_in carries the file's flags
        if (request.Offset > 0 || nonBlocking)
        {
            var buffer = new byte[size / KmonitorEventRecord.Size * KmonitorEventRecord.Size];
            int n = file.Records.Read(buffer);
            if (n == 0 && request.Offset == 0)
                reply.Error(Errno.EAGAIN);
            else
                reply.Data(buffer.AsSpan(0, n));
            return;
        }
        ParkedReads.ReadOrPark(file, size, reply);
        StateChanged?.Invoke();
    }

    // As the 2004 driver, which had no write.
    void ICharacterDevice.Write(in FuseInHeader caller, in FuseWriteIn request, ReadOnlySpan<byte> data, WriteReply reply) => reply.Error(Errno.EINVAL);

    void ICharacterDevice.Fsync(in FuseInHeader caller, in FuseFsyncIn request, FuseReply reply) => reply.Error(Errno.EINVAL);

    /// <summary>
    /// poll/select/epoll: readable when a record is queued. When the kernel asks to be told of a
    /// change, its handle is kept even if the answer is "readable now" (an edge-triggered waiter must
    /// be woken by the next record too) and notified when a record is queued (<see cref="ServeThrough"/>).
    /// </summary>
    void ICharacterDevice.Poll(in FuseInHeader caller, in FusePollIn request, PollReply reply)
    {
        if (service.Files.Find(request.Fh) is not DeviceFile file)
        {
            reply.Error(Errno.EBADF);
            return;
        }
        ulong? handle = (request.Flags & FuseConstants.FUSE_POLL_SCHEDULE_NOTIFY) != 0 ? request.Kh : null;
        bool readable = file.Records.Poll(handle, out bool handleChanged);
        if (handleChanged)
            StateChanged?.Invoke(); // a restart must notify this handle: the kernel keeps the poller waiting for it
        reply.Ready(readable ? Readable : 0);
    }

    /// <summary>POLLIN | POLLRDNORM (0x040, which Tmds.LibC does not name), as a character device with data says.</summary>
    private static readonly uint Readable = (uint)Tmds.Linux.LibC.POLLIN | 0x040;

    /// <summary>A signal reached a reader blocked in read(2): its READ is answered EINTR (or was answered already).</summary>
    void ICharacterDevice.Interrupt(in FuseInHeader caller, ulong interruptedUnique) => ParkedReads.Interrupt(interruptedUnique);

    /// <summary>Poll notifications go out through <paramref name="session"/>, the one serving this device.</summary>
    public void ServeThrough(FuseSession session) => service.Records.PollWakeup = session.NotifyPoll;
}
