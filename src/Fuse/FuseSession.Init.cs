using System.Text;
using Kmonitor.Fuse.Protocol;
using Tmds.Linux;

namespace Kmonitor.Fuse;

// INIT, FUSE's and CUSE's: the session's own business, answered before any handler sees a request.
public sealed partial class FuseSession
{
    /// <summary>FUSE_INIT: agree on the protocol version and the limits of the mount.</summary>
    internal void ServeFuseInit(in FuseRequest request, FuseReply reply)
    {
        var init = request.Arg<FuseInitIn>();
        if (!AgreeOnVersion(init.Major, init.Minor, reply, out uint minor))
            return;
        NegotiatedMinor = minor;
        var answer = new FuseInitOut
        {
            Major = FuseConstants.FUSE_KERNEL_VERSION,
            Minor = minor,
            MaxReadahead = init.MaxReadahead,
            Flags = 0, // no caching, no async reads, no writeback: nothing is asked of the kernel
            MaxBackground = 16,
            CongestionThreshold = 12,
            MaxWrite = MaxWrite,
            TimeGran = 1,
        };
        reply.Send(reply.Begin().Append(answer).Finish());
    }

    /// <summary>CUSE_INIT: the protocol version, the device numbers and "DEVNAME=name", which makes /dev/name.</summary>
    internal void ServeCuseInit(in FuseRequest request, FuseReply reply)
    {
        var init = request.Arg<CuseInitIn>();
        if (!AgreeOnVersion(init.Major, init.Minor, reply, out uint minor))
            return;
        NegotiatedMinor = minor;
        var device = Cuse!;
        var answer = new CuseInitOut
        {
            Major = FuseConstants.FUSE_KERNEL_VERSION,
            Minor = minor,
            // The kernel then sends ioctls without copying anything; the device asks for the argument with a retry.
            Flags = FuseConstants.CUSE_UNRESTRICTED_IOCTL,
            MaxRead = MaxWrite,
            MaxWrite = MaxWrite,
            DevMajor = device.Major,
            DevMinor = device.Minor,
        };
        // The device info is NUL-separated "KEY=value" strings.
        reply.Send(reply.Begin().Append(answer).Append(Encoding.ASCII.GetBytes($"DEVNAME={device.Name}\0")).Finish());
    }

    /// <summary>
    /// The version check both INITs share. An older major is refused (EPROTONOSUPPORT). A newer
    /// major gets ours with minor 0, which tells the kernel to send INIT again in our major; in our
    /// major the minor is the lower of the kernel's and ours.
    /// </summary>
    private static bool AgreeOnVersion(uint kernelMajor, uint kernelMinor, FuseReply reply, out uint minor)
    {
        minor = 0;
        if (kernelMajor < FuseConstants.FUSE_KERNEL_VERSION)
        {
            reply.Error(LibC.EPROTONOSUPPORT);
            return false;
        }
        if (kernelMajor == FuseConstants.FUSE_KERNEL_VERSION)
            minor = Math.Min(kernelMinor, FuseConstants.FUSE_KERNEL_MINOR_VERSION);
        return true;
    }
}
