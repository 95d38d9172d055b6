using Kmonitor.Interop;
using Tmds.Linux;
using static Tmds.Linux.LibC;

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
        try
        {
            using var borrowed = pidfd.Borrow(); // the number sits in the pollfd for the call
            var poll = new pollfd { fd = borrowed.Number, events = (short)POLLIN };
            return Math.Sign(LibC.poll(&poll, 1, 0));
        }
        catch (ObjectDisposedException)
        {
            return 1;
        }
    }
}
