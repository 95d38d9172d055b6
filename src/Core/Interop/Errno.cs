namespace Kmonitor.Interop;

/// <summary>The Linux errno values this project returns or handles, under their C names.</summary>
public static class Errno
{
    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EFAULT = 14;
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int ENODEV = 19;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENOTTY = 25;
    public const int ENOSPC = 28;
    public const int ENOSYS = 38;
    public const int ENODATA = 61;
    public const int EPROTONOSUPPORT = 93;
    public const int ENOBUFS = 105;
    public const int ENOTCONN = 107;

    /// <summary>The errno of the last failed call made through a SetLastError binding.</summary>
    public static int Last => System.Runtime.InteropServices.Marshal.GetLastPInvokeError();

    /// <summary>The C library's text for an errno, as strerror(3) gives it.</summary>
    public static string Describe(int errno) => System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno);
}
