using System.Text;
using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse.Operations;

/// <summary>CUSE_INIT: the protocol version, the device numbers and "DEVNAME=name", which makes /dev/name.</summary>
public static class CuseInit
{
    public static ReadOnlySpan<byte> Reply(FuseReplyWriter writer, ulong unique, CuseInitIn request, string deviceName, uint major, uint minor)
    {
        if (request.Major < FuseConstants.FUSE_KERNEL_VERSION)
            return writer.Error(unique, Kmonitor.Interop.Errno.EPROTONOSUPPORT);
        var reply = new CuseInitOut
        {
            Major = FuseConstants.FUSE_KERNEL_VERSION,
            Minor = Math.Min(request.Minor, FuseConstants.FUSE_KERNEL_MINOR_VERSION),
            // The kernel then sends ioctls without copying anything; we ask for the argument with a retry.
            Flags = FuseConstants.CUSE_UNRESTRICTED_IOCTL,
            MaxRead = FuseInit.MaxWrite,
            MaxWrite = FuseInit.MaxWrite,
            DevMajor = major,   // 0 and 0: the kernel picks a free number
            DevMinor = minor,
        };
        // The device info is NUL-separated "KEY=value" strings.
        return writer.Begin(unique).Append(reply).Append(Encoding.ASCII.GetBytes($"DEVNAME={deviceName}\0")).Finish();
    }
}
