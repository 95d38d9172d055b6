using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse;

/// <summary>
/// The answer to one request: in the handler, or later from any thread. A handler that cannot
/// answer yet (a blocked READ) keeps its reply and returns; the session's thread goes on to the
/// next request meanwhile. The typed replies (OpenReply, ReadReply, ...) wrap this one with the
/// payload their opcode carries, and share its once-only rule.
/// </summary>
/// <remarks>
/// Only the first answer is sent; every later one is dropped and reported by a false return.
/// A kept request can be answered from two sides at once (a record arrives while its caller's
/// INTERRUPT is being answered EINTR), and the kernel must see one reply: it would take a second
/// one for a request of the same unique, so the rule cannot be left to it.
/// </remarks>
public readonly struct FuseReply
{
    private readonly ReplyOnce _once;

    internal FuseReply(FuseSession session, ulong unique) => _once = new ReplyOnce(session, unique);

    /// <summary>The request's id, by which the kernel matches the reply (and an INTERRUPT names its request).</summary>
    public ulong Unique => _once.Unique;

    /// <summary>Whether an answer has been sent (or dropped as a second one); a hint only, since another thread may answer next.</summary>
    public bool IsAnswered => _once.IsClaimed;

    /// <summary>Fails the request: the caller's system call returns -1 with this (positive) errno.</summary>
    /// <returns>False when the request had been answered already, and nothing was sent.</returns>
    public bool Error(int errno)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(errno);
        return _once.Claim() && Write(FuseReplyWriter.ForThisThread.Error(Unique, errno));
    }

    /// <summary>Succeeds with no payload (RELEASE, FLUSH, FSYNC, ...).</summary>
    /// <returns>False when the request had been answered already, and nothing was sent.</returns>
    public bool Success() => _once.Claim() && Write(FuseReplyWriter.ForThisThread.Error(Unique, 0));

    /// <summary>Starts a successful reply with a payload, on this thread's writer.</summary>
    internal FuseReplyWriter Begin() => FuseReplyWriter.ForThisThread.Begin(Unique);

    /// <summary>Sends a reply built with <see cref="Begin"/>, unless the request was answered already.</summary>
    internal bool Send(ReadOnlySpan<byte> reply) => _once.Claim() && Write(reply);

    private bool Write(ReadOnlySpan<byte> reply)
    {
        _once.Session.Send(Unique, reply);
        return true;
    }

    /// <summary>The one piece of state a reply's copies share: whether one of them has answered.</summary>
    private sealed class ReplyOnce(FuseSession session, ulong unique)
    {
        private int _claimed;

        public FuseSession Session { get; } = session;

        public ulong Unique { get; } = unique;

        public bool IsClaimed => Volatile.Read(ref _claimed) != 0;

        /// <summary>True for the first caller only.</summary>
        public bool Claim() => Interlocked.Exchange(ref _claimed, 1) == 0;
    }
}
