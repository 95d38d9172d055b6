namespace Kmonitor.Fuse.Channel;

/// <summary>Where a session reads requests and writes replies: <see cref="FuseChannel"/>, or a test's script.</summary>
public interface IFuseChannel
{
    /// <summary>What the channel reads, for log lines (/dev/fuse, /dev/cuse).</summary>
    string Path { get; }

    /// <summary>
    /// Reads one whole request. Returns its length, 0 when the channel was stopped, or -errno:
    /// ENODEV means the kernel has ended the connection (unmounted or aborted).
    /// </summary>
    int Read(Span<byte> buffer);

    /// <summary>
    /// Writes one whole reply; returns 0 or the errno (ENOENT: the request was interrupted meanwhile).
    /// Safe from any thread: a reply held back by a handler may be sent from another.
    /// </summary>
    int Write(ReadOnlySpan<byte> reply);
}
