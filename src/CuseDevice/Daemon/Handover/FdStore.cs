using System.Text;
using Kmonitor.Diagnostics;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Kmonitor.Daemon.Handover;

/// <summary>
/// systemd's file descriptor store, as sd_pid_notify_with_fds(3) speaks to it: "FDSTORE=1" and
/// "FDNAME=name" in one datagram to $NOTIFY_SOCKET, the descriptor riding along as SCM_RIGHTS;
/// "FDSTOREREMOVE=1" takes a name out. systemd keeps what is stored while the service restarts
/// (up to FileDescriptorStoreMax=) and passes it to the next instance as $LISTEN_FDS.
/// </summary>
public sealed unsafe class FdStore
{
    private readonly byte[] _address;

    private FdStore(byte[] address) => _address = address;

    /// <summary>The store of the service this process runs as; null outside systemd (no $NOTIFY_SOCKET).</summary>
    public static FdStore? FromEnvironment() => For(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    public static FdStore? For(string? notifySocket) =>
        string.IsNullOrEmpty(notifySocket) ? null : new FdStore(SocketAddress(notifySocket));

    /// <summary>struct sockaddr_un for a path, or for an abstract name when it starts with '@'.</summary>
    internal static byte[] SocketAddress(string path)
    {
        bool isAbstract = path[0] == '@';
        var name = Encoding.UTF8.GetBytes(isAbstract ? "\0" + path[1..] : path);
        // A path ends with its NUL; an abstract name's length is exactly its bytes.
        var address = new byte[sizeof(ushort) + name.Length + (isAbstract ? 0 : 1)];
        BitConverter.TryWriteBytes(address.AsSpan(0, 2), (ushort)AF_UNIX);
        name.CopyTo(address, 2);
        return address;
    }

    /// <summary>Stores <paramref name="fd"/> under <paramref name="name"/>; returns 0 or the errno.</summary>
    public int Store(string name, int fd) => Send($"FDSTORE=1\nFDNAME={name}", fd);

    /// <summary>Takes <paramref name="name"/> out of the store (systemd closes its copy).</summary>
    public int Remove(string name) => Send($"FDSTOREREMOVE=1\nFDNAME={name}", -1);

    private int Send(string state, int fd)
    {
        int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
            return errno;
        try
        {
            var text = Encoding.UTF8.GetBytes(state);
            int controlLength = fd >= 0 ? (int)(long)CMSG_SPACE(sizeof(int)) : 0;
            // cmsg_len counts the header and the one int, not the padding after it: Tmds.LibC's
            // CMSG_LEN(4) rounds up to 24, which makes the kernel pass the padding's zero as a second
            // descriptor (stdin), and systemd stores it under the same name (see FdStoreTests).
            int messageLength = (int)(long)CMSG_LEN(0) + sizeof(int);
            var control = stackalloc byte[Math.Max(controlLength, 1)];
            new Span<byte>(control, Math.Max(controlLength, 1)).Clear();
            fixed (byte* data = text)
            fixed (byte* address = _address)
            {
                var io = new iovec { iov_base = data, iov_len = (size_t)text.Length };
                var message = new msghdr
                {
                    msg_name = address,
                    msg_namelen = (socklen_t)_address.Length,
                    msg_iov = &io,
                    msg_iovlen = 1,
                };
                if (fd >= 0)
                {
                    message.msg_control = control;
                    message.msg_controllen = (socklen_t)controlLength;
                    var header = CMSG_FIRSTHDR(&message);
                    header->cmsg_level = SOL_SOCKET;
                    header->cmsg_type = SCM_RIGHTS;
                    header->cmsg_len = (socklen_t)(uint)messageLength;
                    *(int*)CMSG_DATA(header) = fd;
                }
                if (sendmsg(sock, &message, MSG_NOSIGNAL) < 0)
                {
                    int error = errno;
                    Log.Warning($"sd_notify {state.Replace('\n', ' ')}: {Interop.Errno.Describe(error)}");
                    return error;
                }
                return 0;
            }
        }
        finally
        {
            close(sock);
        }
    }
}
