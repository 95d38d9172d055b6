using System.Runtime.InteropServices;
using Kmonitor.Client.Interop;

namespace Kmonitor.Client;

/// <summary>The messages of <see cref="KmonitorException"/>: what was refused, and what to do about it.</summary>
internal static class Errors
{
    public static int LastErrno => Marshal.GetLastPInvokeError();

    /// <summary>open(2) of the device failed.</summary>
    public static KmonitorException Open(int errno, string path) => new(errno, errno switch
    {
        Libc.ENOENT => $"no {path}: is kmonitord running?",
        Libc.EACCES or Libc.EPERM => $"{path}: not permitted: join the kmonitor group",
        Libc.ENOTCONN or Libc.ENODEV or Libc.ENXIO => $"{path}: kmonitord has stopped",
        _ => $"{path}: {Describe(errno)}",
    });

    /// <summary>
    /// A call on an open device failed. <paramref name="pid"/> is the process the call named (0 for
    /// none); <paramref name="invalid"/> says which argument EINVAL refers to.
    /// </summary>
    public static KmonitorException Call(int errno, string call, int pid = 0, string? invalid = null) => new(errno, errno switch
    {
        Libc.EPERM => pid > 0 ? $"{call}: pid {pid} is another user's process" : $"{call}: not permitted",
        Libc.ESRCH => $"{call}: no process {pid}",
        Libc.ENOSPC => $"{call}: a limit of the daemon was reached (registrations and subscriptions per connection or per user)",
        Libc.ENOTCONN or Libc.ENODEV => $"{call}: kmonitord has stopped",
        Libc.EINVAL => $"{call}: invalid argument: {invalid ?? "refused by the daemon"}",
        Libc.EACCES => $"{call}: not permitted: join the kmonitor group",
        _ => $"{call}: {Describe(errno)}",
    });

    public static KmonitorException Invalid(string call, string argument) => Call(Libc.EINVAL, call, invalid: argument);

    private static string Describe(int errno) => $"{Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
}
