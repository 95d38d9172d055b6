using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse.Operations;

/// <summary>FUSE_IOCTL: decode the call, and encode either its result or a retry that asks for the argument.</summary>
public static class FuseIoctl
{
    public static IoctlCall Decode(FuseRequest request, out FuseIoctlIn header)
    {
        header = request.Arg<FuseIoctlIn>();
        var input = request.After<FuseIoctlIn>();
        if (input.Length > header.InSize)
            input = input[..(int)header.InSize];
        bool unrestricted = (header.Flags & FuseConstants.FUSE_IOCTL_UNRESTRICTED) != 0;
        return new IoctlCall((int)request.Header.Pid, request.Header.Uid, header.Fh, header.Cmd, header.Arg, input, unrestricted);
    }

    public static ReadOnlySpan<byte> Reply(FuseReplyWriter writer, ulong unique, IoctlOutcome outcome)
    {
        if (outcome.IsRetry)
        {
            // FUSE_IOCTL_RETRY with one input iovec (protocol 7.16+): the kernel copies those bytes of
            // the caller's memory and sends the ioctl again. A bad address ends as EFAULT in the caller.
            var retry = new FuseIoctlOut { Flags = FuseConstants.FUSE_IOCTL_RETRY, InIovs = 1, OutIovs = 0 };
            var iovec = new FuseIoctlIovec { Base = outcome.RetryAddress, Len = outcome.RetryLength };
            return writer.Begin(unique).Append(retry).Append(iovec).Finish();
        }
        if (outcome.Errno != 0)
            return writer.Error(unique, outcome.Errno);
        return writer.Begin(unique).Append(new FuseIoctlOut { Result = 0 }).Finish();
    }
}
