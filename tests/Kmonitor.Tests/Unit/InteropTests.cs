using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Kmonitor.Interop;
using Kmonitor.Tests.Infrastructure;
using Tmds.Linux;

namespace Kmonitor.Tests.Unit;

/// <summary>The bindings written by hand (what Tmds.LibC 0.5.0 lacks), checked against this machine's C headers.</summary>
public class InteropTests
{
    private static readonly Lazy<Dictionary<string, int>> CLayouts = new(() =>
    {
        var abi = Process.Start(new ProcessStartInfo(TestPaths.Native("kmabi")) { RedirectStandardOutput = true })!;
        var lines = abi.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        abi.WaitForExit();
        return lines.Select(l => l.Split(' ')).ToDictionary(f => f[0], f => int.Parse(f[1]));
    });

    private static int C(string name) => CLayouts.Value[name];

    private static int Offset<T>(params string[] path)
    {
        int offset = 0;
        var type = typeof(T);
        foreach (string field in path)
        {
            offset += (int)Marshal.OffsetOf(type, field);
            type = type.GetField(field)!.FieldType;
        }
        return offset;
    }

    [Fact]
    public void SigInfo_is_laid_out_as_siginfo_t()
    {
        Assert.Equal(C("siginfo_t"), Marshal.SizeOf<SigInfo>());
        Assert.Equal(
            (C("siginfo_t.si_signo"), C("siginfo_t.si_errno"), C("siginfo_t.si_code"), C("siginfo_t.si_pid"), C("siginfo_t.si_uid"), C("siginfo_t.si_int")),
            (Offset<SigInfo>("Signo"), Offset<SigInfo>("Errno"), Offset<SigInfo>("Code"), Offset<SigInfo>("Queued", "Pid"),
             Offset<SigInfo>("Queued", "Uid"), Offset<SigInfo>("Queued", "Value", "Int")));
    }

    [Fact]
    public void The_socket_structs_and_lengths_match_the_headers()
    {
        Assert.Equal((C("sockaddr_nl"), C("sockaddr_nl.nl_pid"), C("sockaddr_nl.nl_groups")),
            (Marshal.SizeOf<SockaddrNl>(), Offset<SockaddrNl>("Pid"), Offset<SockaddrNl>("Groups")));
        Assert.Equal((C("timeval"), C("timeval.tv_usec")), (Marshal.SizeOf<TimeVal>(), Offset<TimeVal>("Microseconds")));
        Assert.Equal((C("CMSG_LEN(int)"), C("CMSG_SPACE(int)")), (Sockets.OneDescriptorControlLength, Sockets.OneDescriptorControlSpace));
    }

    [Fact]
    public void The_capability_structs_match_the_headers() =>
        Assert.Equal((C("cap_user_header"), C("cap_user_data")), (Marshal.SizeOf<CapUserHeader>(), Marshal.SizeOf<CapUserData>()));

    [Fact]
    public void Every_errno_constant_is_the_architectures_value()
    {
        // Constants, so that switches and patterns can use them; Tmds.LibC has the per-architecture values.
        var constants = typeof(Errno).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).ToList();
        Assert.NotEmpty(constants);
        foreach (var constant in constants)
            Assert.Equal((constant.Name, (int)typeof(LibC).GetProperty(constant.Name)!.GetValue(null)!), (constant.Name, (int)constant.GetValue(null)!));
    }

    [Fact]
    public unsafe void A_closed_handle_reaches_no_call_and_a_borrowed_one_stays_open()
    {
        var handle = new FileDescriptorHandle(LibC.eventfd(0, LibC.EFD_CLOEXEC));
        Assert.False(handle.IsInvalid);
        int number = handle.Fd;
        var borrowed = handle.Borrow();
        handle.Dispose();
        Assert.NotEqual(-1, LibC.fcntl(number, LibC.F_GETFD)); // still open: the borrower holds it
        borrowed.Dispose();
        Assert.Equal(-1, LibC.fcntl(number, LibC.F_GETFD));     // closed with the last reference
        Assert.Throws<ObjectDisposedException>(() => { long value; Files.pread(handle, &value, sizeof(long), 0); });
    }
}
