using Kmonitor.Fuse;
using Kmonitor.Fuse.Channel;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>The channel's own failures and its stop, on the real /dev/fuse (opened, never mounted).</summary>
public class ChannelTests
{
    [Fact]
    public void A_device_that_cannot_be_opened_fails_with_one_line_and_its_errno()
    {
        var error = Assert.Throws<FuseException>(() => FuseChannel.Open("/nonexistent/fuse"));
        Assert.Equal("open /nonexistent/fuse: No such file or directory (errno 2)", error.Message);
        Assert.Equal(2, error.Errno);
    }

    [Fact]
    public void Stop_after_dispose_does_nothing()
    {
        var channel = FuseChannel.Open("/dev/fuse");
        channel.Dispose();
        channel.Stop();
        Assert.True(channel.IsStopping);
    }

    [Fact]
    public void A_stopped_channel_reads_nothing()
    {
        using var channel = FuseChannel.Open("/dev/fuse");
        channel.Stop();
        Assert.Equal(0, channel.Read(new byte[FuseSession.MaxWrite + 4096]));
    }
}
