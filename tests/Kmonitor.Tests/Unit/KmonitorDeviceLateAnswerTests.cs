using Kmonitor.Abi;
using Kmonitor.Daemon.Device;
using Kmonitor.Fuse.FileSystem;
using Kmonitor.Fuse.Protocol;
using Kmonitor.Interop;
using Kmonitor.Tests.Unit.Fuse;
using Kmonitor.Tests.Unit.Support;
using static Kmonitor.Tests.Unit.Fuse.FuseWire;

namespace Kmonitor.Tests.Unit;

/// <summary>
/// A REGISTER whose pid must be looked for in /proc (its caller lives in another pid namespace) is
/// answered later, from the scanning thread, while the session's thread goes on serving others.
/// </summary>
public sealed class KmonitorDeviceLateAnswerTests : IDisposable
{
    private const int CallerThread = 5_004_001, Target = 5_004_011;
    private const ulong Namespace = 4_026_000_779;
    private readonly ServiceHarness _h = new();
    private readonly TestSession _session;
    private readonly ManualResetEventSlim _scan = new();

    public KmonitorDeviceLateAnswerTests()
    {
        _session = TestSession.Mount(new KmonitorDevice(_h.Service), KmonitorDevice.OpenFlags);
        _h.Proc.Task(CallerThread, ServiceHarness.Self, 0, depth: 1);
        _h.Proc.PidNamespaceOf(CallerThread, Namespace);
        _h.Proc.Task(Target, Target - 1, 0);
        _h.Proc.LocalPid(Namespace, 7, Target);
        _h.Proc.ScanGate = _scan;
    }

    public void Dispose()
    {
        _scan.Set();
        _h.Dispose();
        _scan.Dispose();
    }

    private static byte[] Ioctl(ulong unique, uint callerTid, ulong fh, uint cmd, KmonitorCmd argument) =>
        Request(FuseOpcode.FUSE_IOCTL, unique, OneFileFileSystem.FileNodeId, callerTid,
            Bytes(new FuseIoctlIn { Fh = fh, Cmd = cmd, InSize = KmonitorCmd.Size }), Bytes(argument));

    [Fact]
    public void The_session_serves_other_callers_while_a_scan_runs_and_the_answer_follows()
    {
        var file = _h.Open();
        var register = new KmonitorCmd(7, KmonitorAbi.KMONITOR_PROCESS_EXIT, 40);
        Assert.Equal(0, _session.Serve(
            Ioctl(1, CallerThread, file.Handle, KmonitorAbi.KMONITOR_IOW_REGISTER, register),     // waits for the scan
            Ioctl(2, (uint)ServiceHarness.Self, file.Handle, KmonitorAbi.KMONITOR_IOW_DEREGISTER, // answered meanwhile
                new KmonitorCmd(Target, KmonitorAbi.KMONITOR_PROCESS_EXIT, 40))));

        var (meanwhile, _) = Reply(Assert.Single(_session.Channel.TakeReplies()));
        Assert.Equal((2ul, -Errno.EINVAL), (meanwhile.Unique, meanwhile.Error)); // nothing registered yet

        _scan.Set();
        var (later, _) = Reply(_session.Channel.NextReply(TimeSpan.FromSeconds(10)));
        Assert.Equal((1ul, 0), (later.Unique, later.Error));
        Assert.True(_h.Service.Table.HasTarget(Target));
    }
}
