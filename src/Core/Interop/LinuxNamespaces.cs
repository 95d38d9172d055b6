using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>
/// Joining a namespace by its /proc/PID/ns descriptor, and walking up the pid namespaces
/// (linux/nsfs.h). unshare(2) and the CLONE_NEW* flags come from Tmds.LibC.
/// </summary>
public static partial class LinuxNamespaces
{
    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int setns(SafeHandle fd, int nstype);

    /// <summary>_IO(0xb7, 0x2): a descriptor for the parent of a pid namespace.</summary>
    public const nuint NS_GET_PARENT = 0xb702;
}
