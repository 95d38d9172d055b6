using Kmonitor.Interop;

namespace Kmonitor;

/// <summary>A failure the daemon reports in one line and does not recover from at start-up.</summary>
public sealed class KmonitorException(string message, int errno = 0) : Exception(message)
{
    public int Errno { get; } = errno;

    public static KmonitorException FromErrno(string what, int errno) =>
        new($"{what}: {Interop.Errno.Describe(errno)} (errno {errno})", errno);
}
