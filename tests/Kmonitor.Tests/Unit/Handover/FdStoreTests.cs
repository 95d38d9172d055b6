using Kmonitor.Daemon.Handover;
using Kmonitor.Tests.Infrastructure;

namespace Kmonitor.Tests.Unit.Handover;

/// <summary>FdStore against a real datagram socket, read as systemd reads it (recvmsg, SCM_RIGHTS).</summary>
public class FdStoreTests
{
    [Fact]
    public void One_store_message_carries_exactly_the_one_descriptor_named()
    {
        using var peer = new FdStorePeer();
        int fd = StateMemfd.Create([1, 2, 3]);
        try
        {
            Assert.Equal(0, FdStore.For(peer.Path)!.Store("state", fd));
            peer.WaitForStored("state");
            // A second descriptor here was the padding after the int read as fd 0: under systemd it
            // was stored as a second "channel", and the next instance took stdin for its device.
            Assert.Empty(peer.Faults);
            Assert.Equal(["state"], peer.Names);
        }
        finally
        {
            Tmds.Linux.LibC.close(fd);
        }
    }

    [Fact]
    public void A_removal_carries_no_descriptor_and_empties_the_name()
    {
        using var peer = new FdStorePeer();
        int fd = StateMemfd.Create([1]);
        var store = FdStore.For(peer.Path)!;
        store.Store("state", fd);
        Tmds.Linux.LibC.close(fd);
        peer.WaitForStored("state");
        Assert.Equal(0, store.Remove("state"));
        peer.WaitForRemoved("state");
        Assert.Empty(peer.Names);
        Assert.Empty(peer.Faults);
    }
}
