using Kmonitor.Interop;

namespace Kmonitor.Exits;

/// <summary>Whether a pidfd's process has exited, asked without waiting: a pidfd polls readable once it has.</summary>
public static class PidfdPoll
{
    /// <summary>
    /// poll(2) with a zero timeout: 1 when the process has exited (or the handle is already closed,
    /// since its owner has let the process go), 0 while it runs, -1 when poll failed.
    /// </summary>
    public static unsafe int Readable(FileDescriptorHandle pidfd)
    {
        bool added = false;
        try
        {
            pidfd.DangerousAddRef(ref added);
            var poll = new PollFd { Fd = pidfd.Fd, Events = Libc.POLLIN };
            return Math.Sign(Libc.poll(&poll, 1, 0));
        }
        catch (ObjectDisposedException)
        {
            return 1;
        }
        finally
        {
            if (added)
                pidfd.DangerousRelease();
        }
    }
}
