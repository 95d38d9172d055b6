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
}
