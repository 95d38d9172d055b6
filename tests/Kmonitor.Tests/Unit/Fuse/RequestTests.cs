using Kmonitor.Fuse.Protocol;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>How a request is read off the channel: its header, and its argument however long the kernel's struct.</summary>
public class RequestTests
{
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
    public void A_request_ends_where_its_header_says_though_more_was_read()
    {
        var message = Request(FuseOpcode.FUSE_LOOKUP, 1, 1, 0, Name("device")).Concat(new byte[] { 0x41, 0x42 }).ToArray();
        var request = new FuseRequest(message);
        Assert.Equal("device"u8.ToArray(), request.Name.ToArray());
        Assert.Equal(message.Length - 2 - FuseInHeader.Size, request.Body.Length);
    }
}
