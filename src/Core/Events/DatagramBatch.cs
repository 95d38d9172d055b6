using System.Runtime.CompilerServices;
using Kmonitor.Interop;
using Tmds.Linux;

namespace Kmonitor.Events;

/// <summary>
/// The buffers one recvmmsg(2) fills: <see cref="Capacity"/> datagrams of up to
/// <see cref="DatagramBytes"/> each, pinned once so a receive allocates nothing.
/// </summary>
/// <remarks>
/// A process connector datagram holds one event (nlmsghdr + cn_msg + proc_event: 76 bytes), so
/// 1 KiB a slot is room to spare; a longer one is cut (MSG_TRUNC) and its events parsed as far as
/// they are whole, as <see cref="ProcConnectorMessage.Parse"/> does with any short datagram.
/// </remarks>
public sealed unsafe class DatagramBatch
{
    public const int DatagramBytes = 1024;

    private readonly byte[] _buffer;
    private readonly iovec[] _vectors;
    private readonly MMsgHdr[] _headers;

    /// <summary>Datagrams received by the last receive.</summary>
    public int Count { get; private set; }

    public int Capacity => _headers.Length;

    public DatagramBatch(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _buffer = GC.AllocateArray<byte>(capacity * DatagramBytes, pinned: true);
        _vectors = GC.AllocateArray<iovec>(capacity, pinned: true);
        _headers = GC.AllocateArray<MMsgHdr>(capacity, pinned: true);
        byte* data = (byte*)Unsafe.AsPointer(ref _buffer[0]);
        iovec* vectors = (iovec*)Unsafe.AsPointer(ref _vectors[0]);
        for (int i = 0; i < capacity; i++)
        {
            vectors[i] = new iovec { iov_base = data + i * DatagramBytes, iov_len = DatagramBytes };
            _headers[i].Header = new msghdr { msg_iov = &vectors[i], msg_iovlen = 1 };
        }
    }

    /// <summary>Datagram <paramref name="index"/> of the last receive.</summary>
    public ReadOnlySpan<byte> this[int index] =>
        _buffer.AsSpan(index * DatagramBytes, (int)Math.Min(_headers[index].Length, DatagramBytes));

    internal MMsgHdr* Headers => (MMsgHdr*)Unsafe.AsPointer(ref _headers[0]);

    internal void Received(int count) => Count = count;
}
