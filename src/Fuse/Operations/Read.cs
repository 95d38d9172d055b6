namespace Kmonitor.Fuse.Operations;

/// <summary>The answer to READ: the bytes read (fewer than asked, or none at end of file), or an errno.</summary>
public readonly struct ReadReply
{
    private readonly FuseReply _reply;

    internal ReadReply(FuseReply reply) => _reply = reply;

    public ulong Unique => _reply.Unique;

    /// <param name="data">At most the size the request asked for.</param>
    /// <returns>
    /// False when the request had been answered already (its caller was interrupted and answered
    /// EINTR meanwhile): nothing was sent, so the data is still the device's to keep for the next read.
    /// </returns>
    public bool Data(ReadOnlySpan<byte> data) => _reply.Send(_reply.Begin().Append(data).Finish());

    public bool Error(int errno) => _reply.Error(errno);
}
