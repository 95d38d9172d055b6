namespace Kmonitor.Fuse;

/// <summary>
/// What a character device does, apart from how its requests reach it: the FUSE mount and the CUSE
/// device both translate their requests into these calls.
/// </summary>
public interface ICharacterDevice
{
    /// <summary>Opens a file of the device; returns 0 and the handle, or an errno.</summary>
    int Open(int callerTid, uint openFlags, out ulong fh);

    /// <summary>Handles an ioctl; <paramref name="input"/> is empty when the kernel has not copied the argument yet.</summary>
    IoctlOutcome Ioctl(in IoctlCall call);

    /// <summary>The last close of a file. Carries no caller: RELEASE comes with pid 0.</summary>
    void Release(ulong fh);
}

/// <summary>One ioctl as the kernel passed it on.</summary>
/// <param name="CallerTid">The thread blocked in ioctl(2).</param>
/// <param name="CallerUid">Its filesystem uid now (the request header's uid; it follows the effective uid).</param>
/// <param name="Fh">The file's handle, from OPEN.</param>
/// <param name="Cmd">The ioctl number.</param>
/// <param name="Arg">The caller's argument (a user-space address).</param>
/// <param name="Input">The argument's bytes, when the kernel copied them in.</param>
/// <param name="Unrestricted">CUSE: the kernel copies nothing until asked with a retry.</param>
public readonly ref struct IoctlCall(int callerTid, uint callerUid, ulong fh, uint cmd, ulong arg, ReadOnlySpan<byte> input, bool unrestricted)
{
    public int CallerTid { get; } = callerTid;
    public uint CallerUid { get; } = callerUid;
    public ulong Fh { get; } = fh;
    public uint Cmd { get; } = cmd;
    public ulong Arg { get; } = arg;
    public ReadOnlySpan<byte> Input { get; } = input;
    public bool Unrestricted { get; } = unrestricted;
}

/// <summary>The answer to an ioctl: done (0 or an errno), or "retry with these bytes of the caller's memory".</summary>
public readonly record struct IoctlOutcome(int Errno, ulong RetryAddress, uint RetryLength)
{
    public static IoctlOutcome Done(int errno) => new(errno, 0, 0);

    public static IoctlOutcome Retry(ulong address, uint length) => new(0, address, length);

    public bool IsRetry => RetryLength != 0;
}
