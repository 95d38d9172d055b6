using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kmonitor.Fuse.Protocol;

/// <summary>
/// Builds replies: fuse_out_header followed by the payload, in one buffer, so the reply reaches the
/// kernel in a single write as the protocol requires. One writer per thread (<see cref="ForThisThread"/>):
/// a reply may be sent from any thread, and is built and written before the next is begun there.
/// </summary>
internal sealed class FuseReplyWriter(int capacity)
{
    [ThreadStatic]
    private static FuseReplyWriter? t_writer;

    private readonly byte[] _buffer = new byte[capacity];
    private int _length;

    /// <summary>This thread's writer, large enough for any reply (the largest is a READ of MaxWrite bytes).</summary>
    public static FuseReplyWriter ForThisThread => t_writer ??= new FuseReplyWriter(FuseSession.MessageBufferSize);

    /// <summary>Starts a successful reply to request <paramref name="unique"/>.</summary>
    public FuseReplyWriter Begin(ulong unique)
    {
        _length = FuseOutHeader.Size;
        WriteHeader(unique, 0);
        return this;
    }

    /// <summary>
    /// Starts a notification: a message the kernel did not ask for, which fuse_out_header marks with
    /// unique 0 and whose error field carries the FUSE_NOTIFY_* code (positive).
    /// </summary>
    public FuseReplyWriter BeginNotification(int code)
    {
        _length = FuseOutHeader.Size;
        WriteHeader(0, code);
        return this;
    }

    /// <summary>A reply that carries only an error (positive errno; 0 for an empty success).</summary>
    public ReadOnlySpan<byte> Error(ulong unique, int errno)
    {
        _length = FuseOutHeader.Size;
        WriteHeader(unique, -errno);
        return _buffer.AsSpan(0, _length);
    }

    public FuseReplyWriter Append<T>(in T value) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        MemoryMarshal.Write(_buffer.AsSpan(_length, size), in value);
        _length += size;
        return this;
    }

    public FuseReplyWriter Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
        return this;
    }

    /// <summary>Pads with zero bytes to a multiple of <paramref name="alignment"/> (directory entries are 8-aligned).</summary>
    public FuseReplyWriter Align(int alignment)
    {
        int padded = (_length + alignment - 1) / alignment * alignment;
        _buffer.AsSpan(_length, padded - _length).Clear();
        _length = padded;
        return this;
    }

    public int Length => _length;

    /// <summary>The finished reply, with the header's length filled in.</summary>
    public ReadOnlySpan<byte> Finish()
    {
        MemoryMarshal.Write(_buffer.AsSpan(0, 4), (uint)_length);
        return _buffer.AsSpan(0, _length);
    }

    private void WriteHeader(ulong unique, int error)
    {
        var header = new FuseOutHeader { Len = (uint)_length, Error = error, Unique = unique };
        MemoryMarshal.Write(_buffer.AsSpan(0, FuseOutHeader.Size), in header);
    }
}
