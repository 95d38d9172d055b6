using Kmonitor.Abi;
using Kmonitor.Daemon.Device;
using Kmonitor.Fuse.FileSystem;
using Kmonitor.Fuse.Protocol;
using Kmonitor.Interop;
using Kmonitor.Registrations;
using Kmonitor.Tests.Unit.Fuse;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit;

/// <summary>
/// READ on the device, as it leaves a FUSE session: whole records, EINVAL below one record, EAGAIN
/// under O_NONBLOCK, a blocked read answered by the next record or ended by an interrupt. Records are
/// queued by the test as the dispatcher would; no kernel call is involved.
/// </summary>
public sealed class KmonitorDeviceReadTests : IDisposable
{
    private const uint O_NONBLOCK = 0x800;
    private readonly KmonitorService _service = new();
    private readonly KmonitorDevice _device;
    private readonly TestSession _session;
    private readonly DeviceFile _file;

    public KmonitorDeviceReadTests()
    {
        _device = new KmonitorDevice(_service);
        _session = TestSession.Mount(_device, KmonitorDevice.OpenFlags);
        _file = _service.Open();
    }

    public void Dispose() => _service.Dispose();

    private static byte[] ReadRequest(ulong unique, ulong fh, uint size, ulong offset = 0, uint flags = 0) =>
        Request(FuseOpcode.FUSE_READ, unique, OneFileFileSystem.FileNodeId, 100, Bytes(new FuseReadIn { Fh = fh, Size = size, Offset = offset, Flags = flags }));

    private void Queue(int pid) =>
        _service.Records.Send(_file, new KmonitorEventRecord { size = KmonitorEventRecord.Size, type = KmonitorAbi.KMONITOR_PROCESS_EXIT, pid = pid });

    private static int[] Pids(byte[] payload) =>
        Enumerable.Range(0, payload.Length / KmonitorEventRecord.Size).Select(i => KmonitorEventRecord.Read(payload.AsSpan(i * KmonitorEventRecord.Size)).pid).ToArray();

    [Fact]
    public void A_buffer_smaller_than_one_record_is_EINVAL() =>
        Assert.Equal(-Errno.EINVAL, _session.Ask(ReadRequest(1, _file.Handle, KmonitorEventRecord.Size - 1)).Header.Error);

    [Fact]
    public void A_file_that_is_not_open_is_EBADF() =>
        Assert.Equal(-Errno.EBADF, _session.Ask(ReadRequest(1, 999, 64)).Header.Error);

    [Fact]
    public void With_nothing_queued_a_nonblocking_read_is_EAGAIN() =>
        Assert.Equal(-Errno.EAGAIN, _session.Ask(ReadRequest(1, _file.Handle, 64, flags: O_NONBLOCK)).Header.Error);

    [Fact]
    public void A_read_returns_as_many_whole_records_as_fit()
    {
        for (int pid = 1; pid <= 3; pid++)
            Queue(pid);
        var (header, payload) = _session.Ask(ReadRequest(1, _file.Handle, 64 * 2 + 63));
        Assert.Equal(0, header.Error);
        Assert.Equal([1, 2], Pids(payload));
        Assert.Equal([3], Pids(_session.Ask(ReadRequest(2, _file.Handle, 4096)).Payload));
    }

    [Fact]
    public void The_rest_of_a_split_read_never_blocks_it_returns_what_is_there_even_nothing()
    {
        var (header, payload) = _session.Ask(ReadRequest(1, _file.Handle, 4096, offset: 131072));
        Assert.Equal((0, 0), (header.Error, payload.Length));
    }

    [Fact]
    public void A_blocked_read_is_answered_by_the_next_record()
    {
        Assert.Equal(0, _session.Serve(ReadRequest(7, _file.Handle, 4096)));
        Assert.Empty(_session.Channel.TakeReplies());
        Assert.Equal(1, _device.ParkedReads.Count);

        Queue(42);
        var (header, payload) = Reply(Assert.Single(_session.Channel.TakeReplies()));
        Assert.Equal((0, 7ul), (header.Error, header.Unique));
        Assert.Equal([42], Pids(payload));
        Assert.Equal(0, _device.ParkedReads.Count);
    }

    [Fact]
    public void An_interrupted_read_is_answered_EINTR_and_the_next_record_stays_queued()
    {
        Assert.Equal(0, _session.Serve(ReadRequest(7, _file.Handle, 4096)));
        _device.ParkedReads.Interrupt(7);
        var (header, _) = Reply(Assert.Single(_session.Channel.TakeReplies()));
        Assert.Equal((-Errno.EINTR, 7ul), (header.Error, header.Unique));

        Queue(42);
        Assert.Empty(_session.Channel.TakeReplies());
        Assert.Equal(1, _file.Records.Count);
        _device.ParkedReads.Interrupt(7); // late or repeated: nothing to answer
        Assert.Empty(_session.Channel.TakeReplies());
    }
}
