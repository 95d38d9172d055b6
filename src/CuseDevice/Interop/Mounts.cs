using System.Runtime.InteropServices;
using Kmonitor.Interop;

namespace Kmonitor.Daemon.Interop;

/// <summary>mount(2) and umount2(2): the FUSE front end mounts itself, with no libfuse or fusermount.</summary>
internal static partial class Mounts
{
    public const ulong MS_NOSUID = 2;
    public const ulong MS_NODEV = 4;
    public const ulong MS_NOEXEC = 8;
    public const int MNT_DETACH = 2;

    [LibraryImport(Libc.Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mount(string source, string target, string fstype, ulong flags, string data);

    [LibraryImport(Libc.Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int umount2(string target, int flags);

    /// <summary>
    /// statfs(2). Only its result matters here, so <paramref name="buffer"/> is any block at least as
    /// large as struct statfs (120 bytes on 64-bit architectures); nothing in it is read.
    /// </summary>
    [LibraryImport(Libc.Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int statfs(string path, byte* buffer);

    public const int StatfsBufferBytes = 256;
}

/// <summary>Ownership and device nodes, which System.IO does not cover.</summary>
internal static partial class FileOwnership
{
    [LibraryImport(Libc.Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chown(string path, int owner, int group);

    [LibraryImport(Libc.Name, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mknod(string path, uint mode, ulong dev);

    public const uint S_IFCHR = 0x2000;

    /// <summary>makedev(3) for the usual major/minor split.</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xFFFFF000) << 32) | ((ulong)(major & 0xFFF) << 8) | ((ulong)(minor & 0xFFFFFF00) << 12) | (minor & 0xFF);
}
