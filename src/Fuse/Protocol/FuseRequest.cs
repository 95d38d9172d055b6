using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kmonitor.Fuse.Protocol;

/// <summary>A view over one request as read from /dev/fuse or /dev/cuse: the header and its body.</summary>
internal readonly ref struct FuseRequest
{
    private readonly ReadOnlySpan<byte> _message;

    public FuseRequest(ReadOnlySpan<byte> message)
    {
        if (message.Length < FuseInHeader.Size)
            throw new FuseProtocolException($"request of {message.Length} bytes is shorter than fuse_in_header");
        Header = MemoryMarshal.Read<FuseInHeader>(message);
        if (Header.Len < FuseInHeader.Size || Header.Len > message.Length)
            throw new FuseProtocolException($"request header says {Header.Len} bytes, {message.Length} were read");
        _message = message[..(int)Header.Len];
    }

    public FuseInHeader Header { get; }

    public FuseOpcode Opcode => Header.Opcode;

    public ReadOnlySpan<byte> Body => _message[FuseInHeader.Size..];

    /// <summary>
    /// The fixed argument struct at the start of the body. A shorter body (an older kernel's
    /// smaller struct) leaves the missing fields zero.
    /// </summary>
    public T Arg<T>() where T : unmanaged
    {
        T value = default;
        var destination = MemoryMarshal.AsBytes(new Span<T>(ref value));
        var body = Body;
        body[..Math.Min(body.Length, destination.Length)].CopyTo(destination);
        return value;
    }

    /// <summary>What follows the fixed argument struct of type T (ioctl data, written bytes).</summary>
    public ReadOnlySpan<byte> After<T>() where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        return Body.Length <= size ? default : Body[size..];
    }

    /// <summary>A NUL-terminated name in the body (LOOKUP).</summary>
    public ReadOnlySpan<byte> Name
    {
        get
        {
            var body = Body;
            int end = body.IndexOf((byte)0);
            return end < 0 ? body : body[..end];
        }
    }
}

/// <summary>A request the kernel cannot have sent: shorter than its header, or than its header says.</summary>
public sealed class FuseProtocolException(string message) : Exception(message);
