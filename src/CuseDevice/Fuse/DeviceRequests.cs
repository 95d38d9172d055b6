using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;
using Kmonitor.Interop;

namespace Kmonitor.Fuse;

/// <summary>
/// The requests that reach an open device file, answered the same way for a FUSE mount and for a
/// CUSE device: OPEN, IOCTL, RELEASE, FLUSH, and a clear errno for what a kmonitor file does not do.
/// </summary>
public sealed class DeviceRequests(ICharacterDevice device)
{
    public ReadOnlySpan<byte> Handle(FuseRequest request, FuseReplyWriter writer)
    {
        ulong unique = request.Header.Unique;
        switch (request.Opcode)
        {
            case FuseOpcode.FUSE_OPEN:
            {
                var open = request.Arg<FuseOpenIn>();
                int error = device.Open((int)request.Header.Pid, open.Flags, out ulong fh);
                return error != 0 ? writer.Error(unique, error) : FuseOpen.Reply(writer, unique, fh);
            }
            case FuseOpcode.FUSE_IOCTL:
            {
                var call = FuseIoctl.Decode(request, out _);
                var outcome = device.Ioctl(call);
                return FuseIoctl.Reply(writer, unique, outcome);
            }
            case FuseOpcode.FUSE_RELEASE:
                device.Release(request.Arg<FuseReleaseIn>().Fh);
                return writer.Error(unique, 0);
            case FuseOpcode.FUSE_FLUSH:
                return writer.Error(unique, 0); // nothing is buffered; opened with NOFLUSH, so rarely sent
            case FuseOpcode.FUSE_READ:
            case FuseOpcode.FUSE_WRITE:
            case FuseOpcode.FUSE_FSYNC:
                return writer.Error(unique, Errno.EINVAL); // as the 2004 driver, which had no read or write
            case FuseOpcode.FUSE_FORGET:
            case FuseOpcode.FUSE_BATCH_FORGET:
                return default; // no reply, by the protocol
            case FuseOpcode.FUSE_INTERRUPT:
                // Requests are answered before the next is read, so the interrupted one is already done.
                return default;
            case FuseOpcode.FUSE_DESTROY:
                return writer.Error(unique, 0);
            default:
                return writer.Error(unique, Errno.ENOSYS);
        }
    }
}
