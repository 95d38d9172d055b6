using Kmonitor.Abi;
using Kmonitor.Daemon.Device;
using Kmonitor.Fuse;
using Kmonitor.Fuse.Operations;
using Kmonitor.Interop;

namespace Kmonitor.Tests.Unit;

/// <summary>How ioctls are decoded before they reach the service: no kernel call is involved.</summary>
public sealed class KmonitorDeviceTests : IDisposable
{
    private readonly KmonitorService _service = new();

    public void Dispose() => _service.Dispose();

    private IoctlOutcome Ioctl(uint cmd, byte[] input, bool unrestricted, ulong? fh = null)
    {
        var device = new KmonitorDevice(_service);
        device.Open(0, 0, out ulong opened);
        return device.Ioctl(new IoctlCall(Environment.CurrentManagedThreadId, 0, fh ?? opened, cmd, 0x5000, input, unrestricted));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_unknown_ioctl_is_EINVAL_without_asking_for_its_argument(bool unrestricted)
    {
        Assert.Equal(IoctlOutcome.Done(Errno.EINVAL), Ioctl(0x400CDE03, [], unrestricted));
        Assert.Equal(IoctlOutcome.Done(Errno.EINVAL), Ioctl(0x5401 /* TCGETS */, [], unrestricted));
    }

    [Fact]
    public void A_cuse_ioctl_without_data_is_answered_with_a_retry_for_12_bytes()
    {
        var outcome = Ioctl(KmonitorAbi.KMONITOR_IOW_REGISTER, [], unrestricted: true);
        Assert.True(outcome.IsRetry);
        Assert.Equal((0x5000ul, 12u), (outcome.RetryAddress, outcome.RetryLength));
    }

    [Fact]
    public void A_fuse_ioctl_with_a_short_argument_is_EINVAL() =>
        Assert.Equal(IoctlOutcome.Done(Errno.EINVAL), Ioctl(KmonitorAbi.KMONITOR_IOW_REGISTER, new byte[4], unrestricted: false));

    [Fact]
    public void An_ioctl_on_a_closed_file_is_EBADF() =>
        Assert.Equal(IoctlOutcome.Done(Errno.EBADF), Ioctl(KmonitorAbi.KMONITOR_IOW_DEREGISTER, new byte[12], false, fh: 999));

    [Theory]
    [InlineData(0, 0x40, 40)]
    [InlineData(-5, 0x40, 40)]
    [InlineData(1, 0, 40)]
    [InlineData(1, 0x80, 40)]
    [InlineData(1, 0x40, -1)]
    [InlineData(1, 0x40, 65)]
    public void Bad_register_arguments_are_EINVAL_before_any_lookup(int pid, int type, int signal)
    {
        var file = _service.Open();
        Assert.Equal(Errno.EINVAL, _service.Register(file, Environment.ProcessId, new KmonitorCmd(pid, type, signal)));
        Assert.Equal(0, _service.Table.Count);
    }

    [Fact]
    public void Deregister_without_a_registration_is_EINVAL() =>
        Assert.Equal(Errno.EINVAL, _service.Deregister(_service.Open(), Environment.ProcessId, new KmonitorCmd(1, 0x40, 40)));
}
