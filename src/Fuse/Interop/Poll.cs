using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Kmonitor.Fuse.Interop;

/// <summary>
/// poll(2), bound here because Tmds.LibC 0.5.0 declares its poll without SetLastError: its errno
/// would be a stale one, and a signal's EINTR (which the channel sleeps through) would look like a failure.
/// </summary>
internal static unsafe partial class Poll
{
    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int poll(pollfd* fds, nuint nfds, int timeout);
}
