using Kmonitor.Interop;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Kmonitor.Signals;

/// <summary>The relay's side: runs in the monitors' pid namespace, sends what the daemon asks for.</summary>
public static unsafe class SignalRelayServer
{
    /// <summary>Serves the daemon on socket <paramref name="fd"/> until it closes its end.</summary>
    public static int Run(int fd)
    {
        using var socket = new FileDescriptorHandle(fd);
        while (ServeOne(socket)) { }
        return 0; // the daemon closed its end (or is gone): nothing left to relay
    }

    /// <summary>Receives one request, sends its signal and answers; false when the daemon's end is closed.</summary>
    private static bool ServeOne(FileDescriptorHandle socket)
    {
        int controlSpace = Sockets.OneDescriptorControlSpace;
        byte* control = stackalloc byte[controlSpace];
        SignalRelay.Request request;
        var iov = new iovec { iov_base = &request, iov_len = SignalRelay.Request.Size };
        var message = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = (uint)controlSpace };
        nint n;
        while ((n = Sockets.recvmsg(socket, &message, MSG_CMSG_CLOEXEC)) < 0 && Errno.Last == Errno.EINTR) { }
        if (n <= 0)
            return false;
        var header = (cmsghdr*)control;
        using var pidfd = new FileDescriptorHandle(
            message.msg_controllen >= Sockets.OneDescriptorControlLength && header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS
                ? *(int*)CMSG_DATA(header) : -1);
        int error = Errno.EINVAL;
        if (!pidfd.IsInvalid && n == SignalRelay.Request.Size)
        {
            var info = new SigInfo
            {
                Signo = request.Signal,
                Code = SigInfo.SI_QUEUE,
                Queued = new SigInfo.QueuedFields { Pid = request.Pid, Uid = request.Uid, Value = new SigInfo.SigVal { Int = request.Value } },
            };
            error = Pidfd.pidfd_send_signal(pidfd, request.Signal, &info, 0) == 0 ? 0 : Errno.Last;
        }
        var replyIov = new iovec { iov_base = &error, iov_len = sizeof(int) };
        var reply = new msghdr { msg_iov = &replyIov, msg_iovlen = 1 };
        return Sockets.sendmsg(socket, &reply, 0) >= 0;
    }
}
