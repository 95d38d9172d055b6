using Kmonitor.Daemon.Handover;

namespace Kmonitor.Tests.Unit.Handover;

public class StopCleanupTests
{
    [Theory]
    [InlineData("success", "123 kmonitord.service stop running\n", true)]
    [InlineData(null, "123 kmonitord.service stop running\n", true)]
    [InlineData("success", "124 kmonitord.service restart running\n", false)]
    [InlineData("signal", "123 kmonitord.service stop running\n", false)]   // Restart=on-failure may follow
    [InlineData("success", "", false)]                                      // no job: not a stop anyone asked for
    [InlineData("success", "9 other.service stop running\n", false)]
    public void Only_a_clean_stop_job_removes_the_mount(string? result, string jobs, bool final)
    {
        Assert.Equal(final, StopCleanup.IsFinalStop(result, jobs, "kmonitord.service"));
    }
}
