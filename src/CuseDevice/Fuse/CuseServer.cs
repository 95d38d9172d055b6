using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse;

/// <summary>
/// The CUSE front end: after CUSE_INIT the kernel creates /dev/DEVNAME, and the device's requests
/// arrive on /dev/cuse with the same layouts as FUSE's, so they go to the same <see cref="DeviceRequests"/>.
/// </summary>
public sealed class CuseServer(string deviceName, uint major, uint minor, DeviceRequests device) : IFuseRequestHandler
{
    public bool Initialized { get; private set; }

    public ReadOnlySpan<byte> Handle(FuseRequest request, FuseReplyWriter writer)
    {
        if (request.Opcode == FuseOpcode.CUSE_INIT)
        {
            Initialized = true;
            return CuseInit.Reply(writer, request.Header.Unique, request.Arg<CuseInitIn>(), deviceName, major, minor);
        }
        return device.Handle(request, writer);
    }
}
