using System.Runtime.CompilerServices;
using Kmonitor.Fuse;
using Kmonitor.Fuse.Protocol;
using Tmds.Linux;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>FUSE_INIT, which the session answers itself.</summary>
public class InitTests
{
    private static byte[] Init(ulong unique, FuseInitIn init) => Request(FuseOpcode.FUSE_INIT, unique, 0, 0, Bytes(init));

    [Fact]
    public void Init_answers_our_minor_to_a_newer_kernel_and_its_own_to_an_older_one()
    {
        var session = TestSession.Mount(new ScriptedDevice());
        var (header, payload) = session.Ask(Init(5, new FuseInitIn { Major = 7, Minor = 45, MaxReadahead = 131072 }));
        var init = Read<FuseInitOut>(payload);
        Assert.Equal((0, 5ul), (header.Error, header.Unique));
        Assert.Equal((7u, FuseConstants.FUSE_KERNEL_MINOR_VERSION, 131072u, FuseSession.MaxWrite), (init.Major, init.Minor, init.MaxReadahead, init.MaxWrite));

        var older = Read<FuseInitOut>(session.Ask(Init(6, new FuseInitIn { Major = 7, Minor = 20 })).Payload);
        Assert.Equal(20u, older.Minor);
    }

    [Fact]
    public void Init_from_an_older_major_is_refused()
    {
        var (header, payload) = TestSession.Mount(new ScriptedDevice()).Ask(Init(5, new FuseInitIn { Major = 6 }));
        Assert.Equal(-LibC.EPROTONOSUPPORT, header.Error);
        Assert.Empty(payload);
    }

    [Fact]
    public void Init_from_a_newer_major_answers_ours_with_minor_0_so_the_kernel_asks_again()
    {
        var (header, payload) = TestSession.Mount(new ScriptedDevice()).Ask(Init(5, new FuseInitIn { Major = 8, Minor = 3 }));
        var init = Read<FuseInitOut>(payload);
        Assert.Equal(0, header.Error);
        Assert.Equal((7u, 0u), (init.Major, init.Minor));
    }

    [Fact]
    public void Init_asks_for_nothing_and_sets_the_limits_of_the_mount()
    {
        var (_, payload) = TestSession.Mount(new ScriptedDevice()).Ask(Init(5, new FuseInitIn { Major = 7, Minor = 38, Flags = 0xFFFFFFFF, Flags2 = 0xFFFFFFFF }));
        Assert.Equal(Unsafe.SizeOf<FuseInitOut>(), payload.Length);
        var init = Read<FuseInitOut>(payload);
        Assert.Equal((0u, 0u), (init.Flags, init.Flags2)); // no capability is taken, whatever the kernel offers
        Assert.Equal(((ushort)16, (ushort)12, 1u), (init.MaxBackground, init.CongestionThreshold, init.TimeGran));
    }

    [Fact]
    public void Init_reaches_no_handler()
    {
        var device = new ScriptedDevice();
        TestSession.Mount(device).Ask(Init(5, new FuseInitIn { Major = 7, Minor = 31 }));
        Assert.Equal(0, device.Calls);
    }
}
