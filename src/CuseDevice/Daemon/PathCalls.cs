using Kmonitor.Interop;
using static Tmds.Linux.LibC;

namespace Kmonitor.Daemon;

/// <summary>
/// The front ends' calls on paths that System.IO does not make: Tmds.LibC's, given strings.
/// Each returns 0, or -1 with errno set.
/// </summary>
internal static unsafe class PathCalls
{
    /// <summary>mount(2) of a FUSE file system that runs nothing from it.</summary>
    public static int MountFuse(string source, string mountPoint, string type, string options)
    {
        fixed (byte* s = CString.From(source), target = CString.From(mountPoint), t = CString.From(type), o = CString.From(options))
            return mount(s, target, t, MS_NOSUID | MS_NODEV | MS_NOEXEC, o);
    }

    /// <summary>umount2(2) with MNT_DETACH: it goes now for new lookups, and for good once its last user lets go.</summary>
    public static int Detach(string mountPoint)
    {
        fixed (byte* p = CString.From(mountPoint))
            return umount2(p, MNT_DETACH);
    }

    public static int Chown(string path, uint owner, uint group)
    {
        fixed (byte* p = CString.From(path))
            return chown(p, owner, group);
    }

    /// <summary>mknod(2) of a character device, with the major and minor packed as glibc's makedev(3) does.</summary>
    public static int MakeCharacterDevice(string path, uint permissions, uint major, uint minor)
    {
        ulong device = ((ulong)(major & 0xFFFFF000) << 32) | ((ulong)(major & 0xFFF) << 8)
                     | ((ulong)(minor & 0xFFFFFF00) << 12) | (minor & 0xFF);
        fixed (byte* p = CString.From(path))
            return mknod(p, (ushort)((ushort)S_IFCHR | permissions), device);
    }
}
