using System.Collections.Frozen;
using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse;

/// <summary>
/// Every opcode a session answers, in one table: which protocol sends it, how its argument is
/// decoded, and who answers (the session itself, the mount's file system, or the device). An opcode
/// that is not here, or not for the session's protocol, is answered ENOSYS.
/// </summary>
internal static class OpcodeTable
{
    public delegate void Handler(FuseSession session, in FuseRequest request, FuseReply reply);

    public sealed record Operation(FuseOpcode Opcode, FuseProtocolKind SentBy, Handler Serve);

    private static readonly FrozenDictionary<FuseOpcode, Operation> Operations = new Operation[]
    {
        // The session's own: the version, and the messages that need no handler.
        new(FuseOpcode.FUSE_INIT, FuseProtocolKind.Fuse, static (FuseSession s, in FuseRequest r, FuseReply reply) => s.ServeFuseInit(r, reply)),
        new(FuseOpcode.CUSE_INIT, FuseProtocolKind.Cuse, static (FuseSession s, in FuseRequest r, FuseReply reply) => s.ServeCuseInit(r, reply)),
        new(FuseOpcode.FUSE_DESTROY, FuseProtocolKind.Both, static (FuseSession _, in FuseRequest _, FuseReply reply) => reply.Success()),
        // No reply, by the protocol: the nodes of a session live as long as it does.
        new(FuseOpcode.FUSE_FORGET, FuseProtocolKind.Both, static (FuseSession _, in FuseRequest _, FuseReply _) => { }),
        new(FuseOpcode.FUSE_BATCH_FORGET, FuseProtocolKind.Both, static (FuseSession _, in FuseRequest _, FuseReply _) => { }),
        // No reply, by the protocol: the interrupted request gets the answer (EINTR), from the device,
        // which may hold it (a blocked READ). Never EAGAIN, which would have the kernel send the
        // INTERRUPT again: requests are read on one thread and each is in its handler's hands before
        // the next is read, and the kernel queues an INTERRUPT only once the request it names has been
        // read, so the device has always seen that request. Never ENOSYS either, which would end
        // interrupts for the whole connection.
        new(FuseOpcode.FUSE_INTERRUPT, FuseProtocolKind.Both, static (FuseSession s, in FuseRequest r, FuseReply _) =>
            s.Device.Interrupt(r.Header, r.Arg<FuseInterruptIn>().Unique)),

        // Names and directories: a mount's file system.
        new(FuseOpcode.FUSE_LOOKUP, FuseProtocolKind.Fuse, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
            s.FileSystem!.Lookup(r.Header, r.Name, new EntryReply(reply))),
        new(FuseOpcode.FUSE_GETATTR, FuseProtocolKind.Fuse, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
            s.FileSystem!.GetAttr(r.Header, new AttrReply(reply))),
        new(FuseOpcode.FUSE_OPENDIR, FuseProtocolKind.Fuse, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
            s.FileSystem!.OpenDir(r.Header, r.Arg<FuseOpenIn>(), new OpenReply(reply))),
        new(FuseOpcode.FUSE_READDIR, FuseProtocolKind.Fuse, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
        {
            var read = r.Arg<FuseReadIn>();
            s.FileSystem!.ReadDir(r.Header, read, new DirectoryReply(reply, read.Size));
        }),
        new(FuseOpcode.FUSE_RELEASEDIR, FuseProtocolKind.Fuse, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
            s.FileSystem!.ReleaseDir(r.Header, r.Arg<FuseReleaseIn>(), reply)),

        // Open files: the device (through the file system, in a mount).
        new(FuseOpcode.FUSE_OPEN, FuseProtocolKind.Both, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
            s.Device.Open(r.Header, r.Arg<FuseOpenIn>(), new OpenReply(reply))),
        new(FuseOpcode.FUSE_READ, FuseProtocolKind.Both, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
            s.Device.Read(r.Header, r.Arg<FuseReadIn>(), new ReadReply(reply))),
        new(FuseOpcode.FUSE_WRITE, FuseProtocolKind.Both, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
        {
            var write = r.Arg<FuseWriteIn>();
            var data = r.After<FuseWriteIn>();
            if (data.Length > write.Size)
                data = data[..(int)write.Size];
            s.Device.Write(r.Header, write, data, new WriteReply(reply));
        }),
        new(FuseOpcode.FUSE_FLUSH, FuseProtocolKind.Both, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
            s.Device.Flush(r.Header, r.Arg<FuseFlushIn>(), reply)),
        new(FuseOpcode.FUSE_FSYNC, FuseProtocolKind.Both, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
            s.Device.Fsync(r.Header, r.Arg<FuseFsyncIn>(), reply)),
        new(FuseOpcode.FUSE_RELEASE, FuseProtocolKind.Both, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
            s.Device.Release(r.Header, r.Arg<FuseReleaseIn>(), reply)),
        new(FuseOpcode.FUSE_IOCTL, FuseProtocolKind.Both, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
            s.Device.Ioctl(IoctlCall.Decode(r), new IoctlReply(reply))),
        new(FuseOpcode.FUSE_POLL, FuseProtocolKind.Both, static (FuseSession s, in FuseRequest r, FuseReply reply) =>
            s.Device.Poll(r.Header, r.Arg<FusePollIn>(), new PollReply(reply))),
    }.ToFrozenDictionary(operation => operation.Opcode);

    /// <summary>The operation for <paramref name="opcode"/> in a session of <paramref name="kind"/>, or null (ENOSYS).</summary>
    public static Operation? Find(FuseOpcode opcode, FuseProtocolKind kind) =>
        Operations.TryGetValue(opcode, out var operation) && (operation.SentBy & kind) != 0 ? operation : null;
}
