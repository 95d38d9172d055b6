using Kmonitor.Interop;

namespace Kmonitor.Exits;

/// <summary>
/// One registered target process, held by a pidfd. The pidfd polls readable only once every thread
/// of the process has exited, which is what PROCESS_EXIT means: the connector's EXIT of the
/// thread-group leader also comes when main() calls pthread_exit while other threads run on.
/// </summary>
public sealed class WatchedProcess(int tgid, FileDescriptorHandle pidfd, ulong id)
{
    public int Tgid { get; } = tgid;
    public FileDescriptorHandle Pidfd { get; } = pidfd;

    /// <summary>Identifies it in epoll's data, since a pid can come back as another process.</summary>
    public ulong Id { get; } = id;

    /// <summary>Registrations holding it; guarded by the watcher's lock.</summary>
    internal int References;

    /// <summary>True once the whole thread group has exited.</summary>
    public unsafe bool HasExited
    {
        get
        {
            bool added = false;
            try
            {
                Pidfd.DangerousAddRef(ref added);
                var poll = new PollFd { Fd = Pidfd.Fd, Events = Libc.POLLIN };
                return Libc.poll(&poll, 1, 0) > 0;
            }
            catch (ObjectDisposedException)
            {
                return true;
            }
            finally
            {
                if (added)
                    Pidfd.DangerousRelease();
            }
        }
    }

    public override string ToString() => $"process {Tgid}";
}
