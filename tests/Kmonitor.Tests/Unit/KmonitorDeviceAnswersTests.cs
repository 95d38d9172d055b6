using Kmonitor.Daemon.Device;
using Kmonitor.Fuse.FileSystem;
using Kmonitor.Fuse.Protocol;
using Kmonitor.Interop;
using Kmonitor.Tests.Unit.Fuse;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit;

/// <summary>
/// The answers kmonitor chooses for the requests it has no use for, and the flags it opens with,
/// as they leave a real FUSE session (the mount the daemon makes: the one-file file system, its
/// directory opened with the device's flags). No kernel call is involved.
/// </summary>
public sealed class KmonitorDeviceAnswersTests : IDisposable
{
    private readonly KmonitorService _service = new();
    private readonly TestSession _session;

    public KmonitorDeviceAnswersTests() => _session = TestSession.Mount(new KmonitorDevice(_service), KmonitorDevice.OpenFlags);

    public void Dispose() => _service.Dispose();

    [Fact]
    public void Open_asks_for_noflush_so_closes_cost_no_round_trip_and_behaves_as_a_character_device()
    {
        var (header, payload) = _session.Ask(Request(FuseOpcode.FUSE_OPEN, 1, OneFileFileSystem.FileNodeId, (uint)Environment.ProcessId, Bytes(new FuseOpenIn { Flags = 2 })));
        Assert.Equal(0, header.Error);
        var open = Read<FuseOpenOut>(payload);
        Assert.NotEqual(0u, open.OpenFlags & FuseConstants.FOPEN_NOFLUSH);
        Assert.Equal(FuseConstants.FOPEN_NOFLUSH | FuseConstants.FOPEN_DIRECT_IO | FuseConstants.FOPEN_NONSEEKABLE | FuseConstants.FOPEN_STREAM, open.OpenFlags);
        Assert.NotNull(_service.FindFile(open.Fh));
    }

    [Fact]
    public void The_mount_s_directory_opens_with_the_device_s_flags_as_it_always_has()
    {
        var open = Read<FuseOpenOut>(_session.Ask(Request(FuseOpcode.FUSE_OPENDIR, 2, FuseConstants.FUSE_ROOT_ID, 100, Bytes(new FuseOpenIn()))).Payload);
        Assert.Equal(KmonitorDevice.OpenFlags, open.OpenFlags);
    }

    [Theory]
    [InlineData(FuseOpcode.FUSE_WRITE)]
    [InlineData(FuseOpcode.FUSE_FSYNC)]
    public void Write_and_fsync_are_EINVAL_as_the_2004_driver_had_neither(FuseOpcode opcode)
    {
        var (header, payload) = _session.Ask(Request(opcode, 3, OneFileFileSystem.FileNodeId, 100, new byte[40], [1, 2, 3]));
        Assert.Equal((-Errno.EINVAL, 3ul), (header.Error, header.Unique));
        Assert.Empty(payload);
    }

    [Fact]
    public void Flush_succeeds_as_nothing_is_buffered()
    {
        var (header, payload) = _session.Ask(Request(FuseOpcode.FUSE_FLUSH, 4, OneFileFileSystem.FileNodeId, 100, Bytes(new FuseFlushIn { Fh = 1 })));
        Assert.Equal(0, header.Error);
        Assert.Empty(payload);
    }

    [Fact]
    public void Release_closes_the_file_and_succeeds()
    {
        var file = _service.Open();
        var (header, _) = _session.Ask(Request(FuseOpcode.FUSE_RELEASE, 5, OneFileFileSystem.FileNodeId, 0, Bytes(new FuseReleaseIn { Fh = file.Handle })));
        Assert.Equal(0, header.Error);
        Assert.Null(_service.FindFile(file.Handle));
    }
}
