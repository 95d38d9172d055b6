using Kmonitor.Abi;
using Kmonitor.Fuse;
using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;
using Kmonitor.Interop;
using Kmonitor.Registrations;

namespace Kmonitor.Daemon.Device;

/// <summary>
/// /dev/kmonitor's file operations, as the 2004 driver's kmonitor_fops: open, the two ioctls, release.
/// Every answer the device gives, to the FUSE mount's file and to the CUSE device alike, is chosen here.
/// </summary>
public sealed class KmonitorDevice(KmonitorService service) : ICharacterDevice
{
    /// <summary>
    /// NOFLUSH: every close() in every process that holds the file (children inherit it) would otherwise
    /// cost a round trip to the daemon. DIRECT_IO and NONSEEKABLE: behave like a character device.
    /// The FUSE mount opens its directory with the same flags.
    /// </summary>
    public const uint OpenFlags = FuseConstants.FOPEN_NOFLUSH | FuseConstants.FOPEN_DIRECT_IO | FuseConstants.FOPEN_NONSEEKABLE;

    /// <summary>Opens a file of the device; returns 0 and the handle, or an errno.</summary>
    public int Open(int callerTid, uint openFlags, out ulong fh)
    {
        fh = service.Open().Handle;
        return 0;
    }

    void ICharacterDevice.Open(in FuseInHeader caller, in FuseOpenIn request, OpenReply reply)
    {
        int error = Open((int)caller.Pid, request.Flags, out ulong fh);
        if (error != 0)
            reply.Error(error);
        else
            reply.Opened(fh, OpenFlags);
    }

    public IoctlOutcome Ioctl(in IoctlCall call)
    {
        if (call.Cmd is not (KmonitorAbi.KMONITOR_IOW_REGISTER or KmonitorAbi.KMONITOR_IOW_DEREGISTER))
            return IoctlOutcome.Done(Errno.EINVAL); // as the original, and without asking for the argument
        if (service.FindFile(call.Fh) is not DeviceFile file)
            return IoctlOutcome.Done(Errno.EBADF);
        if (call.Input.Length < KmonitorCmd.Size)
        {
            // CUSE sends the first ioctl without its argument: ask the kernel to copy the 12 bytes.
            return call.Unrestricted
                ? IoctlOutcome.Retry(call.Arg, KmonitorCmd.Size)
                : IoctlOutcome.Done(Errno.EINVAL);
        }
        var cmd = KmonitorCmd.Read(call.Input);
        int error = call.Cmd == KmonitorAbi.KMONITOR_IOW_REGISTER
            ? service.Register(file, call.CallerTid, cmd, call.CallerUid)
            : service.Deregister(file, call.CallerTid, cmd);
        return IoctlOutcome.Done(error);
    }

    void ICharacterDevice.Ioctl(in IoctlCall call, IoctlReply reply) => reply.Answer(Ioctl(call));

    /// <summary>The last close of a file. Carries no caller: RELEASE comes with pid 0.</summary>
    public void Release(ulong fh)
    {
        if (service.FindFile(fh) is DeviceFile file)
            service.Release(file);
    }

    void ICharacterDevice.Release(in FuseInHeader caller, in FuseReleaseIn request, FuseReply reply)
    {
        Release(request.Fh);
        reply.Success();
    }

    /// <summary>Nothing is buffered; opened with NOFLUSH, so rarely sent.</summary>
    void ICharacterDevice.Flush(in FuseInHeader caller, in FuseFlushIn request, FuseReply reply) => reply.Success();

    // As the 2004 driver, which had no read or write.
    void ICharacterDevice.Read(in FuseInHeader caller, in FuseReadIn request, ReadReply reply) => reply.Error(Errno.EINVAL);

    void ICharacterDevice.Write(in FuseInHeader caller, in FuseWriteIn request, ReadOnlySpan<byte> data, WriteReply reply) => reply.Error(Errno.EINVAL);

    void ICharacterDevice.Fsync(in FuseInHeader caller, in FuseFsyncIn request, FuseReply reply) => reply.Error(Errno.EINVAL);
}
