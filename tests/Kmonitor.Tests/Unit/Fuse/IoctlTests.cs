using System.Runtime.CompilerServices;
using Kmonitor.Fuse.Operations;
using Kmonitor.Fuse.Protocol;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_IOCTL: the call decoded for the device, and its outcome encoded: a result, an errno, or a retry.</summary>
public class IoctlTests
{
    private static byte[] Ioctl(ulong unique, FuseIoctlIn ioctl, params byte[][] data) =>
        Request(FuseOpcode.FUSE_IOCTL, unique, 2, 4321, [Bytes(ioctl), .. data]);

    private static (FuseOutHeader Header, byte[] Payload) Answer(IoctlOutcome outcome, ulong unique = 3) =>
        TestSession.Cuse(new ScriptedDevice { AnswerIoctl = reply => reply.Answer(outcome) }).Ask(Ioctl(unique, new FuseIoctlIn { Fh = 1 }));

    [Fact]
    public void An_ioctl_retry_carries_one_input_iovec_of_the_callers_argument()
    {
        var (header, payload) = Answer(IoctlOutcome.Retry(0x7fff0000, 12));
        Assert.Equal(0, header.Error);
        var output = Read<FuseIoctlOut>(payload);
        Assert.Equal((FuseConstants.FUSE_IOCTL_RETRY, 1u, 0u), (output.Flags, output.InIovs, output.OutIovs));
        var iovec = Read<FuseIoctlIovec>(payload, Unsafe.SizeOf<FuseIoctlOut>());
        Assert.Equal((0x7fff0000ul, 12ul), (iovec.Base, iovec.Len));
        Assert.Equal(Unsafe.SizeOf<FuseIoctlOut>() + Unsafe.SizeOf<FuseIoctlIovec>(), payload.Length);
    }

    [Fact]
    public void An_ioctl_result_is_a_bare_fuse_ioctl_out_or_an_error()
    {
        var (ok, payload) = Answer(IoctlOutcome.Done(0));
        Assert.Equal(0, ok.Error);
        Assert.Equal(Unsafe.SizeOf<FuseIoctlOut>(), payload.Length);
        Assert.Equal(default, Read<FuseIoctlOut>(payload));
        var (failed, none) = Answer(IoctlOutcome.Done(22), unique: 4);
        Assert.Equal((-22, 4ul), (failed.Error, failed.Unique));
        Assert.Empty(none);
    }

    [Fact]
    public void An_ioctl_request_decodes_its_data_and_caller()
    {
        var device = new ScriptedDevice();
        var ioctl = new FuseIoctlIn { Fh = 8, Cmd = 0x400CDE01, Arg = 0x1000, InSize = 12, Flags = FuseConstants.FUSE_IOCTL_UNRESTRICTED };
        TestSession.Cuse(device).Ask(Ioctl(1, ioctl, Bytes(new Abi.KmonitorCmd(55, 0x40, 40))));
        var call = device.Ioctl!;
        Assert.Equal((4321, 8ul, 0x400CDE01u, 0x1000ul, true), (call.CallerTid, call.Fh, call.Cmd, call.Arg, call.Unrestricted));
        Assert.Equal(new Abi.KmonitorCmd(55, 0x40, 40), Abi.KmonitorCmd.Read(call.Input));
    }

    [Fact]
    public void An_ioctl_s_data_ends_at_in_size_and_its_caller_uid_comes_from_the_header()
    {
        var device = new ScriptedDevice();
        var request = Request(FuseOpcode.FUSE_IOCTL, 1, 2, 4321, uid: 1000, Bytes(new FuseIoctlIn { Fh = 8, Cmd = 1, InSize = 4 }), [1, 2, 3, 4, 5, 6]);
        TestSession.Cuse(device).Ask(request);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, device.Ioctl!.Input);
        Assert.Equal((1000u, false), (device.Ioctl.CallerUid, device.Ioctl.Unrestricted));
    }

    [Fact]
    public void An_unrestricted_ioctl_without_data_reaches_the_device_with_empty_input()
    {
        var device = new ScriptedDevice();
        TestSession.Cuse(device).Ask(Ioctl(1, new FuseIoctlIn { Fh = 8, Cmd = 0x400CDE01, Arg = 0x5000, Flags = FuseConstants.FUSE_IOCTL_UNRESTRICTED }));
        Assert.Empty(device.Ioctl!.Input);
        Assert.Equal(0x5000ul, device.Ioctl.Arg);
    }

    [Fact]
    public void On_the_mount_an_ioctl_reaches_the_device()
    {
        var device = new ScriptedDevice();
        TestSession.Mount(device).Ask(Ioctl(1, new FuseIoctlIn { Fh = 8, Cmd = 0x400CDE02, InSize = 12 }, new byte[12]));
        Assert.Equal((8ul, 0x400CDE02u), (device.Ioctl!.Fh, device.Ioctl.Cmd));
    }
}
