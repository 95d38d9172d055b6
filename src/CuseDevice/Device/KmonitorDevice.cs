using Kmonitor.Abi;
using Kmonitor.Fuse;
using Kmonitor.Interop;
using Kmonitor.Registrations;

namespace Kmonitor.Daemon.Device;

/// <summary>
/// /dev/kmonitor's file operations, as the 2004 driver's kmonitor_fops: open, the two ioctls, release.
/// </summary>
public sealed class KmonitorDevice(KmonitorService service) : ICharacterDevice
{
    public int Open(int callerTid, uint openFlags, out ulong fh)
    {
        fh = service.Open().Handle;
        return 0;
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

    public void Release(ulong fh)
    {
        if (service.FindFile(fh) is DeviceFile file)
            service.Release(file);
    }
}
