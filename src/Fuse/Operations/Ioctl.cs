using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse.Operations;

/// <summary>One ioctl as the kernel passed it on.</summary>
/// <param name="callerTid">The thread blocked in ioctl(2).</param>
/// <param name="callerUid">Its filesystem uid now (the request header's uid; it follows the effective uid).</param>
/// <param name="fh">The file's handle, from OPEN.</param>
/// <param name="cmd">The ioctl number.</param>
/// <param name="arg">The caller's argument (a user-space address).</param>
/// <param name="input">The argument's bytes, when the kernel copied them in; empty when it has not yet.</param>
/// <param name="unrestricted">CUSE: the kernel copies nothing until asked with a retry.</param>
/// <param name="outputSize">The bytes the kernel will copy back to the caller from the reply (0 until a retry asked for them, in CUSE).</param>
public readonly ref struct IoctlCall(int callerTid, uint callerUid, ulong fh, uint cmd, ulong arg, ReadOnlySpan<byte> input, bool unrestricted, uint outputSize = 0)
{
    public int CallerTid { get; } = callerTid;
    public uint CallerUid { get; } = callerUid;
    public ulong Fh { get; } = fh;
    public uint Cmd { get; } = cmd;
    public ulong Arg { get; } = arg;
    public ReadOnlySpan<byte> Input { get; } = input;
    public bool Unrestricted { get; } = unrestricted;
    public uint OutputSize { get; } = outputSize;

    /// <summary>The call in an IOCTL request: the data the kernel copied follows fuse_ioctl_in, in_size bytes of it.</summary>
    internal static IoctlCall Decode(in FuseRequest request)
    {
        var header = request.Arg<FuseIoctlIn>();
        var input = request.After<FuseIoctlIn>();
        if (input.Length > header.InSize)
            input = input[..(int)header.InSize];
        bool unrestricted = (header.Flags & FuseConstants.FUSE_IOCTL_UNRESTRICTED) != 0;
        return new IoctlCall((int)request.Header.Pid, request.Header.Uid, header.Fh, header.Cmd, header.Arg, input, unrestricted, header.OutSize);
    }
}

/// <summary>
/// The answer to an ioctl: done (0 or an errno, with bytes to copy back to the caller's argument), or
/// "retry with these bytes of the caller's memory" (copied in, and as many copied back out).
/// </summary>
public readonly record struct IoctlOutcome(int Errno, ulong RetryAddress, uint RetryLength, uint RetryOutLength = 0, byte[]? Output = null)
{
    public static IoctlOutcome Done(int errno) => new(errno, 0, 0);

    /// <summary>Success, with <paramref name="output"/> copied back over the caller's argument.</summary>
    public static IoctlOutcome Succeeded(byte[] output) => new(0, 0, 0, 0, output);

    public static IoctlOutcome Retry(ulong address, uint length) => new(0, address, length);

    /// <summary>A retry for an _IOWR argument: its bytes copied in, and the reply's copied back to the same place.</summary>
    public static IoctlOutcome RetryInOut(ulong address, uint length) => new(0, address, length, length);

    public bool IsRetry => RetryLength != 0;
}

/// <summary>The answer to IOCTL, sent as an <see cref="IoctlOutcome"/>.</summary>
public readonly struct IoctlReply
{
    private readonly FuseReply _reply;

    internal IoctlReply(FuseReply reply) => _reply = reply;

    public ulong Unique => _reply.Unique;

    /// <returns>False when the request had been answered already, and nothing was sent.</returns>
    public bool Answer(IoctlOutcome outcome)
    {
        if (outcome.IsRetry)
        {
            // FUSE_IOCTL_RETRY with one input iovec (protocol 7.16+): the kernel copies those bytes of
            // the caller's memory and sends the ioctl again. A bad address ends as EFAULT in the caller.
            // The in iovecs come first, then the out ones.
            bool copyBack = outcome.RetryOutLength != 0;
            var retry = new FuseIoctlOut { Flags = FuseConstants.FUSE_IOCTL_RETRY, InIovs = 1, OutIovs = copyBack ? 1u : 0u };
            var writer = _reply.Begin().Append(retry).Append(new FuseIoctlIovec { Base = outcome.RetryAddress, Len = outcome.RetryLength });
            if (copyBack)
                writer = writer.Append(new FuseIoctlIovec { Base = outcome.RetryAddress, Len = outcome.RetryOutLength });
            return _reply.Send(writer.Finish());
        }
        if (outcome.Errno != 0)
            return _reply.Error(outcome.Errno);
        var done = _reply.Begin().Append(new FuseIoctlOut { Result = 0 });
        if (outcome.Output is { } output)
            done = done.Append(output);
        return _reply.Send(done.Finish());
    }
}
