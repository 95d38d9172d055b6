using System.Text;
using Kmonitor.Procfs;

namespace Kmonitor.Tests.Unit;

public class ProcfsTests
{
    private const string Status = "Name:\tsleep\nUmask:\t0022\nState:\tZ (zombie)\nTgid:\t4242\nNgid:\t0\nPid:\t4243\nPPid:\t1\n" +
                                  "TracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\nGid:\t100\t100\t100\t100\nThreads:\t3\n" +
                                  "NSpid:\t4243\t17\t2\nCapEff:\t0000000000000020\n";

    [Fact]
    public void Status_gives_tgid_real_uid_state_threads_and_parent()
    {
        Assert.True(ProcTaskStatus.TryParse(Encoding.ASCII.GetBytes(Status), out var status));
        Assert.Equal(new ProcTaskStatus(4242, 1000, 'Z', 3, EffectiveUid: 1001, EffectiveCaps: 0x20, NamespaceDepth: 2, InnermostPid: 2, ParentPid: 1), status);
        Assert.True(status.HasExited);
    }

    [Fact]
    public void A_status_without_the_needed_fields_is_refused() =>
        Assert.False(ProcTaskStatus.TryParse("Name:\tx\n"u8, out _));

    [Fact]
    public void The_exit_code_is_field_52_counted_after_the_command_name()
    {
        // A command name with spaces and parentheses must not shift the fields.
        var fields = string.Join(' ', Enumerable.Range(3, 50).Select(n => n == 52 ? "9" : "0"));
        var stat = Encoding.ASCII.GetBytes($"123 (a) b (c) {fields}\n");
        Assert.Equal(9, TaskExitCode.TryParse(stat));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(3 << 8, false)]
    [InlineData(9, true)]
    [InlineData(0x80 | 6, true)]   // SIGABRT with a core dump
    [InlineData(0x137F, false)]    // stopped, not killed
    public void Killed_by_signal_is_WIFSIGNALED(int status, bool killed) =>
        Assert.Equal(killed, TaskExitCode.IsKilledBySignal(status));

    [Fact]
    public void This_process_reads_as_itself()
    {
        Assert.True(ProcTaskStatus.TryRead(Environment.ProcessId, out var self));
        Assert.Equal(Environment.ProcessId, self.Tgid);
        Assert.False(ProcTaskStatus.TryRead(int.MaxValue, out _));
    }

    [Fact]
    public void The_runtime_reports_the_running_kernels_version()
    {
        // The event filter is chosen by Environment.OSVersion (Linux 6.6+): it must be the kernel's release.
        string[] release = File.ReadAllText("/proc/sys/kernel/osrelease").Split('.', '-');
        var version = Environment.OSVersion.Version;
        Assert.Equal((int.Parse(release[0]), int.Parse(release[1])), (version.Major, version.Minor));
    }
}
