using Kmonitor.Daemon.Handover;
using Kmonitor.Handover;

namespace Kmonitor.Tests.Unit.Handover;

public class StateFormatTests
{
    private static HandoverState Sample() => new(
        "1.2.3", "fuse", "/dev/kmx", "/run/kmonitor/kmx", 41,
        new ServiceState(7, [
            new FileState(5, 2, [
                new RegistrationState(100, 100, 123456, 1000, 0x40, 0, 40, 111, 222, 1000, 100, "sleep", 99, 654321, 0, 0),
                new RegistrationState(101, 100, 123457, 1000, 0x08, 0x08, 0, 333, 444, 1000, 101, null, 99, 654321, 1, 4026531836),
            ], new byte[128], 3, 1, [
                new SubscriptionState(1, 1, 0x4B, 0, 0, null, 7, 107, 9999, 12345, 1000, 1000, false, 99, 654321, 0, 0),
                new SubscriptionState(2, 3, 0x08, 1, 40, "^sle+p( |$)", 0, 0, 0, 23456, 0, 0, true, 99, 654321, 1, 4026531836),
            ], PollHandle: 17),
            new FileState(6, 0, [], [], 1, 0, [], PollHandle: null),
        ]),
        [new ParkedReadState(77, 5, 4096)]);

    [Fact]
    public void A_state_reads_back_as_it_was_written()
    {
        var state = Sample();
        var read = StateFormat.Read(StateFormat.Write(state));
        Assert.Equal((state.DaemonVersion, state.Mode, state.DevicePath, state.MountPoint, state.NegotiatedMinor),
            (read.DaemonVersion, read.Mode, read.DevicePath, read.MountPoint, read.NegotiatedMinor));
        Assert.Equal(state.ParkedReads, read.ParkedReads);
        Assert.Equal(2, read.Service.Files.Count);
        var file = read.Service.Files[0];
        Assert.Equal((17ul, (ulong?)null), (file.PollHandle, read.Service.Files[1].PollHandle));
        Assert.Equal(state.Service.Files[0].Registrations, file.Registrations);
        Assert.Equal(state.Service.Files[0].Subscriptions, file.Subscriptions);
        Assert.Equal((5ul, 2u, 3u, 1u, 128), (file.Handle, file.LastSubscriptionId, file.NextSeq, file.Dropped, file.Records.Length));
        Assert.Equal(7ul, read.Service.LastHandle);
    }

    [Theory]
    [InlineData(0, "no state magic")]           // the magic
    [InlineData(8, "state format")]             // the format version
    [InlineData(40, "checksum")]                // anything after it
    public void A_damaged_or_foreign_state_is_refused_with_the_reason(int offset, string reason)
    {
        var bytes = StateFormat.Write(Sample());
        bytes[offset] ^= 0x5A;
        Assert.Contains(reason, Assert.Throws<FormatException>(() => StateFormat.Read(bytes)).Message);
    }

    [Fact]
    public void A_state_cut_short_is_refused()
    {
        var bytes = StateFormat.Write(Sample());
        Assert.Throws<FormatException>(() => StateFormat.Read(bytes[..(bytes.Length / 2)]));
    }
}
