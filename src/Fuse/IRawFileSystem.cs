using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Fuse;

/// <summary>
/// A FUSE mount's requests, raw: names and directories here, and the requests on open files as a
/// character device has them. A FUSE session sends its file system every one of them; the same
/// rules of answering hold (<see cref="ICharacterDevice"/>).
/// </summary>
public interface IRawFileSystem : ICharacterDevice
{
    void Lookup(in FuseInHeader caller, ReadOnlySpan<byte> name, EntryReply reply);

    void GetAttr(in FuseInHeader caller, AttrReply reply);

    void OpenDir(in FuseInHeader caller, in FuseOpenIn request, OpenReply reply);

    /// <remarks>The reply fills at most the size <paramref name="request"/> asks for.</remarks>
    void ReadDir(in FuseInHeader caller, in FuseReadIn request, DirectoryReply reply);

    void ReleaseDir(in FuseInHeader caller, in FuseReleaseIn request, FuseReply reply);
}
