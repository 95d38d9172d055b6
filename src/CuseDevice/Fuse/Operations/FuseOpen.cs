using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse.Operations;

/// <summary>FUSE_OPEN: a new file handle for the device.</summary>
public static class FuseOpen
{
    /// <summary>
    /// NOFLUSH: every close() in every process that holds the file (children inherit it) would otherwise
    /// cost a round trip to the daemon. DIRECT_IO and NONSEEKABLE: behave like a character device.
    /// </summary>
    public const uint DeviceOpenFlags = FuseConstants.FOPEN_NOFLUSH | FuseConstants.FOPEN_DIRECT_IO | FuseConstants.FOPEN_NONSEEKABLE;

    public static ReadOnlySpan<byte> Reply(FuseReplyWriter writer, ulong unique, ulong fh) =>
        writer.Begin(unique).Append(new FuseOpenOut { Fh = fh, OpenFlags = DeviceOpenFlags }).Finish();
}
