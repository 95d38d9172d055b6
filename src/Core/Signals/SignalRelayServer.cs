using Kmonitor.Diagnostics;
using Kmonitor.Interop;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Kmonitor.Signals;

/// <summary>The relay's side: runs in the monitors' pid namespace, sends what the daemon asks for.</summary>
public static unsafe class SignalRelayServer
{
    /// <summary>Serves the daemon on socket <paramref name="fd"/> until it closes its end. Exit code 1: could not confine itself.</summary>
    public static int Run(int fd)
    {
        using var socket = new FileDescriptorHandle(fd);
        // Once confined, no file is left to load code from: everything the loop needs is loaded first.
        if ((WarmUp() ?? RelayConfinement.Apply()) is string problem)
        {
            Log.Error($"signal relay {Environment.ProcessId}: {problem}; it exits rather than serve unconfined");
            return 1;
        }
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

    /// <summary>
    /// Loads what serving needs while the host's files are still there: the assemblies the relay's
    /// code refers to, the log's output, and every call of a request, by serving one of its own
    /// through a private socket pair (signal 0 to itself, which only checks that it may).
    /// </summary>
    private static string? WarmUp()
    {
        RelayConfinement.LoadReferencedAssemblies();
        _ = Log.Output;
        int* pair = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
            return $"socketpair: {Errno.Describe(Errno.Last)}";
        using var daemonEnd = new FileDescriptorHandle(pair[0]);
        using var relayEnd = new FileDescriptorHandle(pair[1]);
        using var self = Pidfd.pidfd_open(Environment.ProcessId, 0);
        if (self.IsInvalid)
            return $"pidfd_open of itself: {Errno.Describe(Errno.Last)}";
        int error = SignalRelay.SendRequest(daemonEnd, self, new SignalRelay.Request { Pid = Environment.ProcessId });
        if (error == 0 && !ServeOne(relayEnd))
            error = Errno.EPIPE;
        error = error != 0 ? error : SignalRelay.ReceiveReply(daemonEnd) ?? Errno.EPIPE;
        return error == 0 ? null : $"serving a request of its own: {Errno.Describe(error)}";
    }
}
