using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Kmonitor.Fuse;
using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Tests.Unit;

public class FuseProtocolTests
{
    [Fact]
    public void Message_layouts_have_the_sizes_of_linux_fuse_h()
    {
        Assert.Equal(40, Unsafe.SizeOf<FuseInHeader>());
        Assert.Equal(16, Unsafe.SizeOf<FuseOutHeader>());
        Assert.Equal(64, Unsafe.SizeOf<FuseInitIn>());
        Assert.Equal(64, Unsafe.SizeOf<FuseInitOut>());
        Assert.Equal(16, Unsafe.SizeOf<CuseInitIn>());
        Assert.Equal(72, Unsafe.SizeOf<CuseInitOut>());
        Assert.Equal(88, Unsafe.SizeOf<FuseAttr>());
        Assert.Equal(128, Unsafe.SizeOf<FuseEntryOut>());
        Assert.Equal(104, Unsafe.SizeOf<FuseAttrOut>());
        Assert.Equal(8, Unsafe.SizeOf<FuseOpenIn>());
        Assert.Equal(16, Unsafe.SizeOf<FuseOpenOut>());
        Assert.Equal(24, Unsafe.SizeOf<FuseReleaseIn>());
        Assert.Equal(40, Unsafe.SizeOf<FuseReadIn>());
        Assert.Equal(32, Unsafe.SizeOf<FuseIoctlIn>());
        Assert.Equal(16, Unsafe.SizeOf<FuseIoctlOut>());
        Assert.Equal(16, Unsafe.SizeOf<FuseIoctlIovec>());
        Assert.Equal(24, Unsafe.SizeOf<FuseDirent>());
    }

    /// <summary>Builds a request the way the kernel would: header, then the body.</summary>
    internal static byte[] Request(FuseOpcode opcode, ulong unique, ulong nodeId, uint pid, params byte[][] body)
    {
        var payload = body.SelectMany(b => b).ToArray();
        var header = new FuseInHeader { Len = (uint)(FuseInHeader.Size + payload.Length), Opcode = opcode, Unique = unique, NodeId = nodeId, Pid = pid };
        var bytes = new byte[header.Len];
        MemoryMarshal.Write(bytes, in header);
        payload.CopyTo(bytes, FuseInHeader.Size);
        return bytes;
    }

    internal static byte[] Bytes<T>(T value) where T : unmanaged
    {
        var bytes = new byte[Unsafe.SizeOf<T>()];
        MemoryMarshal.Write(bytes, in value);
        return bytes;
    }

    private static (FuseOutHeader Header, byte[] Payload) Reply(ReadOnlySpan<byte> reply)
    {
        var header = MemoryMarshal.Read<FuseOutHeader>(reply);
        Assert.Equal(reply.Length, (int)header.Len);
        return (header, reply[FuseOutHeader.Size..].ToArray());
    }

    [Fact]
    public void A_request_reads_its_header_and_zero_fills_a_short_argument()
    {
        // An older kernel's fuse_init_in is 16 bytes: the rest of the struct reads as zero.
        var message = Request(FuseOpcode.FUSE_INIT, 9, 0, 123, Bytes(7u), Bytes(26u), Bytes(4096u), Bytes(1u));
        var request = new FuseRequest(message);
        Assert.Equal((FuseOpcode.FUSE_INIT, 9ul, 123u), (request.Opcode, request.Header.Unique, request.Header.Pid));
        var init = request.Arg<FuseInitIn>();
        Assert.Equal((7u, 26u, 4096u, 1u, 0u), (init.Major, init.Minor, init.MaxReadahead, init.Flags, init.Flags2));
    }

    [Fact]
    public void A_request_shorter_than_its_header_says_is_refused()
    {
        var message = Request(FuseOpcode.FUSE_GETATTR, 1, 1, 0, new byte[16]);
        Assert.Throws<FuseProtocolException>(() => new FuseRequest(message.AsSpan(0, 50)));
        Assert.Throws<FuseProtocolException>(() => new FuseRequest(new byte[10]));
    }

    [Fact]
    public void Init_answers_our_minor_to_a_newer_kernel_and_its_own_to_an_older_one()
    {
        var writer = new FuseReplyWriter();
        var (header, payload) = Reply(FuseInit.Reply(writer, 5, new FuseInitIn { Major = 7, Minor = 45, MaxReadahead = 131072 }));
        var init = MemoryMarshal.Read<FuseInitOut>(payload);
        Assert.Equal((0, 5ul), (header.Error, header.Unique));
        Assert.Equal((7u, FuseConstants.FUSE_KERNEL_MINOR_VERSION, 131072u, FuseInit.MaxWrite), (init.Major, init.Minor, init.MaxReadahead, init.MaxWrite));

        var older = MemoryMarshal.Read<FuseInitOut>(Reply(FuseInit.Reply(writer, 6, new FuseInitIn { Major = 7, Minor = 20 })).Payload);
        Assert.Equal(20u, older.Minor);
    }

    [Fact]
    public void Init_from_an_older_major_is_refused()
    {
        var (header, payload) = Reply(FuseInit.Reply(new FuseReplyWriter(), 5, new FuseInitIn { Major = 6 }));
        Assert.Equal(-Kmonitor.Interop.Errno.EPROTONOSUPPORT, header.Error);
        Assert.Empty(payload);
    }

    [Fact]
    public void Cuse_init_asks_for_unrestricted_ioctls_and_names_the_device()
    {
        var (_, payload) = Reply(CuseInit.Reply(new FuseReplyWriter(), 1, new CuseInitIn { Major = 7, Minor = 37 }, "kmonitor", 0, 0));
        var init = MemoryMarshal.Read<CuseInitOut>(payload);
        Assert.Equal(FuseConstants.CUSE_UNRESTRICTED_IOCTL, init.Flags);
        Assert.Equal("DEVNAME=kmonitor\0", Encoding.ASCII.GetString(payload, CuseInitOut.Size, payload.Length - CuseInitOut.Size));
    }

    [Fact]
    public void An_ioctl_retry_carries_one_input_iovec_of_the_callers_argument()
    {
        var (header, payload) = Reply(FuseIoctl.Reply(new FuseReplyWriter(), 3, IoctlOutcome.Retry(0x7fff0000, 12)));
        Assert.Equal(0, header.Error);
        var output = MemoryMarshal.Read<FuseIoctlOut>(payload);
        Assert.Equal((FuseConstants.FUSE_IOCTL_RETRY, 1u, 0u), (output.Flags, output.InIovs, output.OutIovs));
        var iovec = MemoryMarshal.Read<FuseIoctlIovec>(payload.AsSpan(FuseIoctlOut.Size));
        Assert.Equal((0x7fff0000ul, 12ul), (iovec.Base, iovec.Len));
    }

    [Fact]
    public void An_ioctl_result_is_a_bare_fuse_ioctl_out_or_an_error()
    {
        var writer = new FuseReplyWriter();
        var (ok, payload) = Reply(FuseIoctl.Reply(writer, 3, IoctlOutcome.Done(0)));
        Assert.Equal(0, ok.Error);
        Assert.Equal(FuseIoctlOut.Size, payload.Length);
        var (failed, none) = Reply(FuseIoctl.Reply(writer, 4, IoctlOutcome.Done(22)));
        Assert.Equal((-22, 4ul), (failed.Error, failed.Unique));
        Assert.Empty(none);
    }

    [Fact]
    public void An_ioctl_request_decodes_its_data_and_caller()
    {
        var ioctl = new FuseIoctlIn { Fh = 8, Cmd = 0x400CDE01, Arg = 0x1000, InSize = 12, Flags = FuseConstants.FUSE_IOCTL_UNRESTRICTED };
        var message = Request(FuseOpcode.FUSE_IOCTL, 1, 2, 4321, Bytes(ioctl), Bytes(new Abi.KmonitorCmd(55, 0x40, 40)));
        var call = FuseIoctl.Decode(new FuseRequest(message), out _);
        Assert.Equal((4321, 8ul, 0x400CDE01u, 0x1000ul, true), (call.CallerTid, call.Fh, call.Cmd, call.Arg, call.Unrestricted));
        Assert.Equal(new Abi.KmonitorCmd(55, 0x40, 40), Abi.KmonitorCmd.Read(call.Input));
    }

    [Fact]
    public void Open_asks_for_noflush_so_closes_cost_no_round_trip()
    {
        var (_, payload) = Reply(FuseOpen.Reply(new FuseReplyWriter(), 1, 77));
        var open = MemoryMarshal.Read<FuseOpenOut>(payload);
        Assert.Equal(77ul, open.Fh);
        Assert.NotEqual(0u, open.OpenFlags & FuseConstants.FOPEN_NOFLUSH);
    }

    [Fact]
    public void Readdir_pads_each_entry_to_8_bytes_and_resumes_at_an_offset()
    {
        FuseReaddir.Entry[] entries = [new(1, 4, "."), new(1, 4, ".."), new(2, 8, "device")];
        var (_, payload) = Reply(FuseReaddir.Reply(new FuseReplyWriter(), 1, new FuseReadIn { Size = 4096 }, entries));
        Assert.Equal(32 + 32 + 32, payload.Length);
        var last = MemoryMarshal.Read<FuseDirent>(payload.AsSpan(64));
        Assert.Equal((2ul, 3ul, 6u, 8u), (last.Ino, last.Off, last.NameLen, last.Type));

        var (_, rest) = Reply(FuseReaddir.Reply(new FuseReplyWriter(), 1, new FuseReadIn { Size = 4096, Offset = 3 }, entries));
        Assert.Empty(rest);
    }
}
