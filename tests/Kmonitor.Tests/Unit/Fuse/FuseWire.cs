using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>Messages as the kernel writes them, and replies as it reads them.</summary>
internal static class FuseWire
{
    /// <summary>Builds a request the way the kernel would: header, then the body.</summary>
    public static byte[] Request(FuseOpcode opcode, ulong unique, ulong nodeId, uint pid, params byte[][] body) =>
        Request(opcode, unique, nodeId, pid, uid: 0, body);

    public static byte[] Request(FuseOpcode opcode, ulong unique, ulong nodeId, uint pid, uint uid, params byte[][] body)
    {
        var payload = body.SelectMany(b => b).ToArray();
        var header = new FuseInHeader { Len = (uint)(FuseInHeader.Size + payload.Length), Opcode = opcode, Unique = unique, NodeId = nodeId, Pid = pid, Uid = uid };
        var bytes = new byte[header.Len];
        MemoryMarshal.Write(bytes, in header);
        payload.CopyTo(bytes, FuseInHeader.Size);
        return bytes;
    }

    public static byte[] Bytes<T>(T value) where T : unmanaged
    {
        var bytes = new byte[Unsafe.SizeOf<T>()];
        MemoryMarshal.Write(bytes, in value);
        return bytes;
    }

    /// <summary>A NUL-terminated name, as LOOKUP carries it.</summary>
    public static byte[] Name(string name) => System.Text.Encoding.UTF8.GetBytes(name + "\0");

    /// <summary>Splits a reply into its header and payload, checking that the header's length is the reply's.</summary>
    public static (FuseOutHeader Header, byte[] Payload) Reply(byte[] reply)
    {
        var header = MemoryMarshal.Read<FuseOutHeader>(reply);
        Assert.Equal(reply.Length, (int)header.Len);
        return (header, reply[FuseOutHeader.Size..]);
    }

    public static T Read<T>(byte[] payload, int offset = 0) where T : unmanaged => MemoryMarshal.Read<T>(payload.AsSpan(offset));
}
