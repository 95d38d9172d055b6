using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse;

/// <summary>
/// The answer to one request, to be given exactly once: in the handler, or later from any thread.
/// A handler that cannot answer yet (a blocked READ) keeps its reply and returns; the session's
/// thread goes on to the next request meanwhile. The typed replies (OpenReply, IoctlReply, ...)
/// wrap this one with the payload their opcode carries.
/// </summary>
public readonly struct FuseReply
{
    private readonly FuseSession _session;

    internal FuseReply(FuseSession session, ulong unique)
    {
        _session = session;
        Unique = unique;
    }

    /// <summary>The request's id, by which the kernel matches the reply (and an INTERRUPT names its request).</summary>
    public ulong Unique { get; }

    /// <summary>Fails the request: the caller's system call returns -1 with this (positive) errno.</summary>
    public void Error(int errno)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(errno);
        Send(FuseReplyWriter.ForThisThread.Error(Unique, errno));
    }

    /// <summary>Succeeds with no payload (RELEASE, FLUSH, FSYNC, ...).</summary>
    public void Success() => Send(FuseReplyWriter.ForThisThread.Error(Unique, 0));

    /// <summary>Starts a successful reply with a payload, on this thread's writer.</summary>
    internal FuseReplyWriter Begin() => FuseReplyWriter.ForThisThread.Begin(Unique);

    internal void Send(ReadOnlySpan<byte> reply) => _session.Send(Unique, reply);
}
