using System.Runtime.InteropServices;

namespace Kmonitor.Fuse;

/// <summary>A system call of this layer failed where the caller cannot go on (opening the channel).</summary>
public sealed class FuseException(string message, int errno) : Exception(message)
{
    public int Errno { get; } = errno;

    /// <summary>"what: strerror (errno N)", the daemon's one-line form.</summary>
    public static FuseException FromErrno(string what, int errno) =>
        new($"{what}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);
}
