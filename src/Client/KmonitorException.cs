namespace Kmonitor.Client;

/// <summary>
/// The daemon (or the kernel on its behalf) refused a call. <see cref="Errno"/> is the error number;
/// the message says what was refused and, where there is one, what to do about it.
/// </summary>
public sealed class KmonitorException : IOException
{
    /// <summary>Creates an exception for <paramref name="errno"/> with a message that says what was refused.</summary>
    /// <param name="errno">The Linux error number (ENOENT, EPERM, ...).</param>
    /// <param name="message">What was refused, in words.</param>
    public KmonitorException(int errno, string message) : base(message) => Errno = errno;

    /// <summary>The Linux error number the call failed with (for example 1 for EPERM, 28 for ENOSPC).</summary>
    public int Errno { get; }
}
