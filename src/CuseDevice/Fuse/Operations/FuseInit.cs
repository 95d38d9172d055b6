using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse.Operations;

/// <summary>FUSE_INIT: agree on the protocol version with the kernel.</summary>
public static class FuseInit
{
    public const uint MaxWrite = 64 * 1024;

    public static ReadOnlySpan<byte> Reply(FuseReplyWriter writer, ulong unique, FuseInitIn request)
    {
        if (request.Major < FuseConstants.FUSE_KERNEL_VERSION)
            return writer.Error(unique, Kmonitor.Interop.Errno.EPROTONOSUPPORT);
        var reply = new FuseInitOut
        {
            Major = FuseConstants.FUSE_KERNEL_VERSION,
            // A newer kernel speaks our minor too; an older one (or a newer major, which the kernel
            // answers by re-sending INIT) gets what it asked for.
            Minor = request.Major > FuseConstants.FUSE_KERNEL_VERSION ? 0 : Math.Min(request.Minor, FuseConstants.FUSE_KERNEL_MINOR_VERSION),
            MaxReadahead = request.MaxReadahead,
            Flags = 0, // no caching, no async reads, no writeback: the one file has no data
            MaxBackground = 16,
            CongestionThreshold = 12,
            MaxWrite = MaxWrite,
            TimeGran = 1,
        };
        return writer.Begin(unique).Append(reply).Finish();
    }
}
