using Kmonitor.Daemon.Handover;

namespace Kmonitor.Tests.Unit.Handover;

public class ListenFdsTests
{
    [Fact]
    public void Names_map_to_descriptors_from_3_in_order()
    {
        var fds = ListenFds.Parse("3", "42", "channel:netlink:state", 42);
        Assert.Equal(new Dictionary<string, int> { ["channel"] = 3, ["netlink"] = 4, ["state"] = 5 }, fds.ByName);
    }

    [Theory]
    [InlineData("3", "41", "a:b:c")]   // meant for another process
    [InlineData("3", null, "a:b:c")]
    [InlineData("0", "42", "")]
    [InlineData("x", "42", "a")]
    [InlineData(null, "42", "a")]
    public void Descriptors_not_meant_for_this_process_are_none(string? count, string? pid, string? names)
    {
        Assert.Equal(0, ListenFds.Parse(count, pid, names, 42).Count);
    }

    [Fact]
    public void A_missing_name_is_unknown_and_a_repeated_name_is_said()
    {
        var fds = ListenFds.Parse("4", "7", "state::state", 7);
        Assert.Equal(new Dictionary<string, int> { ["state"] = 3, ["unknown"] = 4 }, fds.ByName);
        Assert.Equal(["state", "unknown"], fds.RepeatedNames); // the fourth has no name either
        Assert.False(fds.IsEmpty);
    }

    [Fact]
    public void Take_hands_a_descriptor_over_once()
    {
        var fds = ListenFds.Parse("2", "7", "channel:state", 7);
        Assert.Equal(3, fds.Take("channel"));
        Assert.Null(fds.Take("channel"));
        Assert.Null(fds.Take("netlink"));
        Assert.Equal(1, fds.Count);
    }

    [Theory]
    [InlineData("/run/systemd/notify", "/run/systemd/notify\0")]
    [InlineData("@abstract", "\0abstract")]
    public void The_notify_address_is_a_path_with_its_nul_or_an_exact_abstract_name(string socket, string expected)
    {
        var address = FdStore.SocketAddress(socket);
        Assert.Equal(1, BitConverter.ToUInt16(address, 0)); // AF_UNIX
        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(address, 2, address.Length - 2));
    }
}
