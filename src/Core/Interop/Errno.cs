using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>
/// The Linux errno values this project returns or handles, under their C names. They are the
/// ioctl's answers to C programs, so they are constants: Tmds.LibC 0.5.0 has them too, but as
/// properties, which a switch or a pattern cannot use (a unit test checks the two agree).
/// </summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int EINVAL = 22;
    public const int ENOSPC = 28;
    public const int EPIPE = 32;
    public const int ECONNRESET = 104;
    public const int ENOBUFS = 105;
    public const int ENOTCONN = 107;

    /// <summary>The errno of the last failed call made through a SetLastError binding (ours or Tmds.LibC's).</summary>
    public static int Last => Tmds.Linux.LibC.errno;

    /// <summary>The C library's text for an errno, as strerror(3) gives it.</summary>
    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
