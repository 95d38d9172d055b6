using System.Text;
using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;
using Kmonitor.Interop;

namespace Kmonitor.Fuse;

/// <summary>
/// The FUSE front end's file system: a root directory holding one file, which behaves as the
/// character device. Only the names and attributes are answered here; the file's own requests go
/// to <see cref="DeviceRequests"/>.
/// </summary>
public sealed class OneFileFileSystem(string fileName, uint fileMode, uint uid, uint gid, DeviceRequests device) : IFuseRequestHandler
{
    public const ulong FileNodeId = 2;

    private readonly byte[] _fileName = Encoding.UTF8.GetBytes(fileName);
    private readonly ulong _startTime = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    private readonly FuseReaddir.Entry[] _entries =
    [
        new(FuseConstants.FUSE_ROOT_ID, FuseConstants.DT_DIR, "."),
        new(FuseConstants.FUSE_ROOT_ID, FuseConstants.DT_DIR, ".."),
        new(FileNodeId, FuseConstants.DT_REG, fileName),
    ];

    /// <summary>Set once the kernel has sent INIT: the mount is serving.</summary>
    public bool Initialized { get; private set; }

    public ReadOnlySpan<byte> Handle(FuseRequest request, FuseReplyWriter writer)
    {
        ulong unique = request.Header.Unique;
        switch (request.Opcode)
        {
            case FuseOpcode.FUSE_INIT:
                Initialized = true;
                return FuseInit.Reply(writer, unique, request.Arg<FuseInitIn>());
            case FuseOpcode.FUSE_LOOKUP:
                if (request.Header.NodeId == FuseConstants.FUSE_ROOT_ID && request.Name.SequenceEqual(_fileName))
                    return FuseAttributes.Entry(writer, unique, FileAttr());
                return writer.Error(unique, Errno.ENOENT);
            case FuseOpcode.FUSE_GETATTR:
                return request.Header.NodeId switch
                {
                    FuseConstants.FUSE_ROOT_ID => FuseAttributes.Attr(writer, unique, RootAttr()),
                    FileNodeId => FuseAttributes.Attr(writer, unique, FileAttr()),
                    _ => writer.Error(unique, Errno.ENOENT),
                };
            case FuseOpcode.FUSE_OPENDIR:
                return FuseOpen.Reply(writer, unique, 0);
            case FuseOpcode.FUSE_READDIR:
                return FuseReaddir.Reply(writer, unique, request.Arg<FuseReadIn>(), _entries);
            case FuseOpcode.FUSE_RELEASEDIR:
                return writer.Error(unique, 0);
            case FuseOpcode.FUSE_OPEN when request.Header.NodeId != FileNodeId:
                return writer.Error(unique, Errno.EISDIR);
            default:
                return device.Handle(request, writer);
        }
    }

    private FuseAttr RootAttr() => new()
    {
        Ino = FuseConstants.FUSE_ROOT_ID,
        Mode = FuseConstants.S_IFDIR | 0x1ED, // 0755
        Nlink = 2,
        Atime = _startTime, Mtime = _startTime, Ctime = _startTime,
        BlkSize = 4096,
    };

    private FuseAttr FileAttr() => new()
    {
        Ino = FileNodeId,
        Mode = FuseConstants.S_IFREG | fileMode,
        Nlink = 1,
        Uid = uid,
        Gid = gid,
        Atime = _startTime, Mtime = _startTime, Ctime = _startTime,
        BlkSize = 4096,
    };
}
