using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse;

/// <summary>
/// The requests that reach an open character device, raw: a CUSE session sends its device every one
/// of them, and a FUSE mount's file system passes its file's on. The implementer chooses every
/// answer, errors included, and gives it through the reply exactly once: before returning, or later
/// from any thread (a request that must wait, such as a READ with nothing to read yet).
/// </summary>
/// <remarks>
/// <c>caller</c>'s Pid is the calling thread's id, and 0 for requests no thread waits on (RELEASE).
/// </remarks>
public interface ICharacterDevice
{
    void Open(in FuseInHeader caller, in FuseOpenIn request, OpenReply reply);

    void Read(in FuseInHeader caller, in FuseReadIn request, ReadReply reply);

    void Write(in FuseInHeader caller, in FuseWriteIn request, ReadOnlySpan<byte> data, WriteReply reply);

    /// <summary>A close(2) of a descriptor of the file (each one, unless OPEN answered FOPEN_NOFLUSH).</summary>
    void Flush(in FuseInHeader caller, in FuseFlushIn request, FuseReply reply);

    void Fsync(in FuseInHeader caller, in FuseFsyncIn request, FuseReply reply);

    /// <summary>The last close of an open file.</summary>
    void Release(in FuseInHeader caller, in FuseReleaseIn request, FuseReply reply);

    void Ioctl(in IoctlCall call, IoctlReply reply);

    /// <summary>
    /// poll(2), select(2) or epoll on an open file: answer the ready bits now. When
    /// <paramref name="request"/>'s Flags hold FUSE_POLL_SCHEDULE_NOTIFY, someone sleeps on the file:
    /// keep its Kh (one per open file, the same in every POLL of that file) and call
    /// <see cref="FuseSession.NotifyPoll"/> with it when the file becomes ready. Keep it even when
    /// answering "ready now": an edge-triggered epoll waiter is woken only by a notification.
    /// </summary>
    /// <remarks>ENOSYS turns poll off for the whole connection (the kernel then reports every file as always ready).</remarks>
    void Poll(in FuseInHeader caller, in FusePollIn request, PollReply reply);

    /// <summary>
    /// A signal interrupted the caller of the request <paramref name="interruptedUnique"/>, which this
    /// device has been given and has not answered yet (the kernel sends INTERRUPT only for a request
    /// the daemon has read). A device that keeps requests (a blocked READ) finds the one whose
    /// reply's Unique this is and answers it now, usually EINTR; there is nothing to reply to the
    /// INTERRUPT itself. A unique the device does not hold was answered already: ignore it.
    /// </summary>
    /// <remarks>
    /// The kernel fills only the header's Unique (the interrupted one with its low bit set) and
    /// Opcode: <paramref name="caller"/>'s uid, gid and pid are 0. Called on the session's thread.
    /// </remarks>
    void Interrupt(in FuseInHeader caller, ulong interruptedUnique);
}
