using System.Runtime.InteropServices;
using Kmonitor.Fuse.Protocol;
using Tmds.Linux;

namespace Kmonitor.Fuse;

// Notifications: messages the daemon sends the kernel unasked, from any thread.
public sealed partial class FuseSession
{
    /// <summary>
    /// FUSE_NOTIFY_POLL: wakes whoever polls the file the kernel named <paramref name="kh"/> in a POLL
    /// with FUSE_POLL_SCHEDULE_NOTIFY; the kernel then polls it again (a new POLL request), so the
    /// device answers the new readiness there. Callable from any thread, as late replies are.
    /// </summary>
    /// <remarks>
    /// The kernel keeps a file's kh until the file's release and wakes nobody for a kh it does not
    /// know; a kernel that answers ENOENT for one says the same, so that is not an error here. A
    /// session whose channel is closed, or whose connection the kernel has ended (ENODEV), has no
    /// poller left to wake: the notification is dropped. CUSE
    /// takes it as FUSE does (its channel is /dev/fuse's file operations, its device polls through
    /// fuse_file_poll).
    /// </remarks>
    public void NotifyPoll(ulong kh)
    {
        var message = FuseReplyWriter.ForThisThread
            .BeginNotification(FuseConstants.FUSE_NOTIFY_POLL)
            .Append(new FuseNotifyPollWakeupOut { Kh = kh })
            .Finish();
        int error = Write(message);
        if (error != 0 && error != LibC.ENOENT && error != LibC.ENODEV)
            _log(FuseLogLevel.Warning, $"writing the poll notification for kh {kh} failed: {Marshal.GetPInvokeErrorMessage(error)}");
    }
}
