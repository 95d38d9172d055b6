using Kmonitor.Interop;
using static Tmds.Linux.LibC;

namespace Kmonitor.Events;

/// <summary>
/// A NETLINK_CONNECTOR socket subscribed to the process connector (CN_IDX_PROC). It is never told
/// PROC_CN_MCAST_IGNORE: before Linux 6.6 that message silences every other listener on the machine,
/// so unsubscribing is done by closing the socket.
/// </summary>
public sealed unsafe class ProcConnectorSocket : IDisposable
{
    private readonly FileDescriptorHandle _socket;

    /// <summary>Whether the kernel's event-type filter (Linux 6.6+) is in use.</summary>
    public bool UsesEventFilter { get; }

    /// <summary>The receive buffer the kernel granted, in bytes.</summary>
    public int ReceiveBufferBytes { get; }

    private ProcConnectorSocket(FileDescriptorHandle socket, bool usesEventFilter, int receiveBufferBytes)
    {
        _socket = socket;
        UsesEventFilter = usesEventFilter;
        ReceiveBufferBytes = receiveBufferBytes;
    }

    /// <summary>Opens, binds and subscribes; throws <see cref="KmonitorException"/> with the failing step.</summary>
    /// <param name="receiveBufferBytes">Asked for with SO_RCVBUFFORCE so bursts are absorbed instead of lost.</param>
    /// <param name="receiveTimeoutMs">How long one receive waits, so the listener can notice a stop.</param>
    public static ProcConnectorSocket Open(int receiveBufferBytes, int receiveTimeoutMs)
    {
        var handle = new FileDescriptorHandle(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NetlinkConnector.NETLINK_CONNECTOR));
        if (handle.IsInvalid)
            throw KmonitorException.FromErrno("socket(AF_NETLINK, NETLINK_CONNECTOR)", Errno.Last);
        try
        {
            int size = receiveBufferBytes;
            if (Sockets.setsockopt(handle, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(int)) != 0)
                throw KmonitorException.FromErrno("setsockopt(SO_RCVBUFFORCE)", Errno.Last);
            var timeout = new TimeVal { Seconds = receiveTimeoutMs / 1000, Microseconds = receiveTimeoutMs % 1000 * 1000 };
            if (Sockets.setsockopt(handle, SOL_SOCKET, SO_RCVTIMEO, &timeout, (uint)sizeof(TimeVal)) != 0)
                throw KmonitorException.FromErrno("setsockopt(SO_RCVTIMEO)", Errno.Last);

            // nl_pid 0: the kernel picks a unique port id, so several daemons can listen at once.
            var address = new SockaddrNl { Family = (ushort)AF_NETLINK, Groups = ProcConnectorMessage.CN_IDX_PROC };
            if (Sockets.bind(handle, &address, (uint)sizeof(SockaddrNl)) != 0)
                throw KmonitorException.FromErrno("bind(CN_IDX_PROC)", Errno.Last);

            bool filter = Environment.OSVersion.Version >= new Version(6, 6);
            var request = ProcConnectorMessage.BuildListenRequest(filter, portId: 0);
            fixed (byte* p = request)
            {
                if (Sockets.send(handle, p, (nuint)request.Length, 0) != request.Length)
                    throw KmonitorException.FromErrno("send(PROC_CN_MCAST_LISTEN)", Errno.Last);
            }

            int granted = 0;
            uint length = sizeof(int);
            Sockets.getsockopt(handle, SOL_SOCKET, SO_RCVBUF, &granted, &length);
            return new ProcConnectorSocket(handle, filter, granted);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A socket the previous instance opened and subscribed (passed by systemd's fd store): the events
    /// the kernel queued in it while no daemon ran are still there. Takes ownership of <paramref name="fd"/>.
    /// </summary>
    public static ProcConnectorSocket Adopt(int fd, int receiveTimeoutMs)
    {
        var handle = new FileDescriptorHandle(fd);
        var timeout = new TimeVal { Seconds = receiveTimeoutMs / 1000, Microseconds = receiveTimeoutMs % 1000 * 1000 };
        Sockets.setsockopt(handle, SOL_SOCKET, SO_RCVTIMEO, &timeout, (uint)sizeof(TimeVal));
        int granted = 0;
        uint length = sizeof(int);
        Sockets.getsockopt(handle, SOL_SOCKET, SO_RCVBUF, &granted, &length);
        return new ProcConnectorSocket(handle, Environment.OSVersion.Version >= new Version(6, 6), granted);
    }

    /// <summary>The socket, for handing it to the next instance (which keeps the subscription and its queue).</summary>
    public FileDescriptorHandle Handle => _socket;

    /// <summary>
    /// Receives every datagram waiting, up to the batch's capacity, in one system call: it blocks
    /// (up to the receive timeout) for the first only (MSG_WAITFORONE), so an idle listener sleeps in
    /// one recvmmsg and a busy one takes a burst per wake-up. Returns the datagrams received, 0 on a
    /// timeout, or -errno (ENOBUFS as <see cref="Receive"/>; after a partial batch the kernel keeps
    /// the error for the next call). With <paramref name="dontWait"/> it does not block at all.
    /// </summary>
    public int Receive(DatagramBatch batch, bool dontWait = false)
    {
        int flags = dontWait ? MSG_WAITFORONE | MSG_DONTWAIT : MSG_WAITFORONE;
        int n = Sockets.recvmmsg(_socket, batch.Headers, (uint)batch.Capacity, flags, null);
        if (n >= 0)
        {
            batch.Received(n);
            return n;
        }
        batch.Received(0);
        int errno = Errno.Last;
        return errno is Errno.EAGAIN or Errno.EINTR ? 0 : -errno;
    }

    public void Dispose() => _socket.Dispose();
}
