using System.Runtime.CompilerServices;
using System.Text;
using Kmonitor.Fuse;
using Kmonitor.Fuse.Protocol;
using Tmds.Linux;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>CUSE_INIT on /dev/cuse, which the session answers itself: it makes the device /dev/NAME.</summary>
public class CuseInitTests
{
    private static byte[] CuseInit(ulong unique, CuseInitIn init) => Request(FuseOpcode.CUSE_INIT, unique, 0, 0, Bytes(init));

    [Fact]
    public void Cuse_init_asks_for_unrestricted_ioctls_and_names_the_device()
    {
        var (_, payload) = TestSession.Cuse(new ScriptedDevice(), "kmonitor").Ask(CuseInit(1, new CuseInitIn { Major = 7, Minor = 37 }));
        var init = Read<CuseInitOut>(payload);
        int size = Unsafe.SizeOf<CuseInitOut>();
        Assert.Equal(FuseConstants.CUSE_UNRESTRICTED_IOCTL, init.Flags);
        Assert.Equal("DEVNAME=kmonitor\0", Encoding.ASCII.GetString(payload, size, payload.Length - size));
    }

    [Fact]
    public void Cuse_init_agrees_on_the_version_and_passes_the_device_numbers_and_limits()
    {
        var (header, payload) = TestSession.Cuse(new ScriptedDevice(), "kmt", major: 240, minor: 7).Ask(CuseInit(2, new CuseInitIn { Major = 7, Minor = 38 }));
        var init = Read<CuseInitOut>(payload);
        Assert.Equal((0, 2ul), (header.Error, header.Unique));
        Assert.Equal((7u, FuseConstants.FUSE_KERNEL_MINOR_VERSION), (init.Major, init.Minor));
        Assert.Equal((FuseSession.MaxWrite, FuseSession.MaxWrite), (init.MaxRead, init.MaxWrite));
        Assert.Equal((240u, 7u), (init.DevMajor, init.DevMinor));
        Assert.Equal(0u, init.Unused);

        var older = Read<CuseInitOut>(TestSession.Cuse(new ScriptedDevice()).Ask(CuseInit(3, new CuseInitIn { Major = 7, Minor = 20 })).Payload);
        Assert.Equal(20u, older.Minor);
    }

    [Fact]
    public void Cuse_init_from_an_older_major_is_refused_as_fuse_init_is()
    {
        var (header, payload) = TestSession.Cuse(new ScriptedDevice()).Ask(CuseInit(1, new CuseInitIn { Major = 6, Minor = 99 }));
        Assert.Equal(-LibC.EPROTONOSUPPORT, header.Error);
        Assert.Empty(payload);
    }
}
