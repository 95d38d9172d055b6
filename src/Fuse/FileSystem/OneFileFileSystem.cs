using System.Text;
using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;
using Tmds.Linux;

namespace Kmonitor.Fuse.FileSystem;

/// <summary>
/// A FUSE mount of one root directory holding one file, which behaves as a character device: the
/// names and attributes are answered here, and every request on an open file goes to the device.
/// A thin layer over the raw protocol, as a file system over <see cref="IRawFileSystem"/>.
/// </summary>
/// <param name="fileMode">The file's permission bits.</param>
/// <param name="directoryOpenFlags">The FOPEN_* flags OPENDIR answers with (the owner's choice, like the device's own).</param>
public sealed class OneFileFileSystem(string fileName, uint fileMode, uint uid, uint gid, uint directoryOpenFlags, ICharacterDevice device) : IRawFileSystem
{
    public const ulong FileNodeId = 2;

    /// <summary>How long the kernel may cache names and attributes: they never change while the mount lives.</summary>
    public const ulong ValidSeconds = 3600;

    private static readonly uint S_IFDIR = (ushort)LibC.S_IFDIR;
    private static readonly uint S_IFREG = (ushort)LibC.S_IFREG;

    private readonly byte[] _fileName = Encoding.UTF8.GetBytes(fileName);
    private readonly ulong _startTime = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly DirectoryEntry[] _listing =
    [
        new(FuseConstants.FUSE_ROOT_ID, FuseConstants.DT_DIR, "."),
        new(FuseConstants.FUSE_ROOT_ID, FuseConstants.DT_DIR, ".."),
        new(FileNodeId, FuseConstants.DT_REG, fileName),
    ];

    public void Lookup(in FuseInHeader caller, ReadOnlySpan<byte> name, EntryReply reply)
    {
        if (caller.NodeId == FuseConstants.FUSE_ROOT_ID && name.SequenceEqual(_fileName))
            reply.Entry(new FuseEntryOut { NodeId = FileNodeId, Generation = 1, EntryValid = ValidSeconds, AttrValid = ValidSeconds, Attr = FileAttr() });
        else
            reply.Error(LibC.ENOENT);
    }

    public void GetAttr(in FuseInHeader caller, AttrReply reply)
    {
        switch (caller.NodeId)
        {
            case FuseConstants.FUSE_ROOT_ID:
                reply.Attr(new FuseAttrOut { AttrValid = ValidSeconds, Attr = RootAttr() });
                break;
            case FileNodeId:
                reply.Attr(new FuseAttrOut { AttrValid = ValidSeconds, Attr = FileAttr() });
                break;
            default:
                reply.Error(LibC.ENOENT);
                break;
        }
    }

    public void OpenDir(in FuseInHeader caller, in FuseOpenIn request, OpenReply reply) => reply.Opened(0, directoryOpenFlags);

    public void ReadDir(in FuseInHeader caller, in FuseReadIn request, DirectoryReply reply) => reply.Entries(_listing, request.Offset);

    public void ReleaseDir(in FuseInHeader caller, in FuseReleaseIn request, FuseReply reply) => reply.Success();

    /// <summary>Only the file opens as the device; the directory is opened with OPENDIR.</summary>
    public void Open(in FuseInHeader caller, in FuseOpenIn request, OpenReply reply)
    {
        if (caller.NodeId != FileNodeId)
            reply.Error(LibC.EISDIR);
        else
            device.Open(caller, request, reply);
    }

    public void Read(in FuseInHeader caller, in FuseReadIn request, ReadReply reply) => device.Read(caller, request, reply);

    public void Write(in FuseInHeader caller, in FuseWriteIn request, ReadOnlySpan<byte> data, WriteReply reply) =>
        device.Write(caller, request, data, reply);

    public void Flush(in FuseInHeader caller, in FuseFlushIn request, FuseReply reply) => device.Flush(caller, request, reply);

    public void Fsync(in FuseInHeader caller, in FuseFsyncIn request, FuseReply reply) => device.Fsync(caller, request, reply);

    public void Release(in FuseInHeader caller, in FuseReleaseIn request, FuseReply reply) => device.Release(caller, request, reply);

    public void Ioctl(in IoctlCall call, IoctlReply reply) => device.Ioctl(call, reply);

    public void Poll(in FuseInHeader caller, in FusePollIn request, PollReply reply) => device.Poll(caller, request, reply);

    /// <summary>Every request the device can keep is one on the file, so every interrupt is the device's.</summary>
    public void Interrupt(in FuseInHeader caller, ulong interruptedUnique) => device.Interrupt(caller, interruptedUnique);

    private FuseAttr RootAttr() => new()
    {
        Ino = FuseConstants.FUSE_ROOT_ID,
        Mode = S_IFDIR | 0x1ED, // 0755
        Nlink = 2,
        Atime = _startTime, Mtime = _startTime, Ctime = _startTime,
        BlkSize = 4096,
    };

    private FuseAttr FileAttr() => new()
    {
        Ino = FileNodeId,
        Mode = S_IFREG | fileMode,
        Nlink = 1,
        Uid = uid,
        Gid = gid,
        Atime = _startTime, Mtime = _startTime, Ctime = _startTime,
        BlkSize = 4096,
    };
}
