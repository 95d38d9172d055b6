using Kmonitor.Client;

namespace Kmonitor.Tests.Unit.Client;

/// <summary>The wait status of exits and aborts, decoded as WIFEXITED / WEXITSTATUS / WIFSIGNALED / WTERMSIG / WCOREDUMP do.</summary>
public class ProcessEventStatusTests
{
    private static ProcessEvent With(ProcessEventKind kind, int status) => new(kind, 1, 0, 100, 100, 1, 0, status, 100, "x", 0);

    [Theory]
    [InlineData(0x0000, 0)]
    [InlineData(0x0300, 3)]
    [InlineData(0xFF00, 255)]
    public void An_exit_by_itself_has_its_code_and_no_signal(int status, int code)
    {
        var e = With(ProcessEventKind.ProcessExit, status);
        Assert.Equal((code, (int?)null, false, $"exited {code}"), (e.ExitCode, e.TermSignal, e.CoreDumped, e.DescribeStatus()));
    }

    [Theory]
    [InlineData(15, false, "killed by SIGTERM")]
    [InlineData(9, false, "killed by SIGKILL")]
    [InlineData(11, true, "killed by SIGSEGV (core dumped)")]
    [InlineData(6, true, "killed by SIGABRT (core dumped)")]
    [InlineData(35, false, "killed by SIGRTMIN+1")]
    public void A_death_by_signal_has_the_signal_and_the_core_dump(int signal, bool core, string described)
    {
        foreach (var kind in new[] { ProcessEventKind.ProcessExit, ProcessEventKind.ProcessAbort, ProcessEventKind.ThreadExit, ProcessEventKind.ThreadAbort })
        {
            var e = With(kind, signal | (core ? 0x80 : 0));
            Assert.Equal(((int?)null, (int?)signal, core, described), (e.ExitCode, e.TermSignal, e.CoreDumped, e.DescribeStatus()));
        }
    }

    [Theory]
    [InlineData(ProcessEventKind.ProcessExec)]
    [InlineData(ProcessEventKind.ProcessFork)]
    [InlineData(ProcessEventKind.ThreadCreate)]
    [InlineData(ProcessEventKind.Existing)]
    [InlineData(ProcessEventKind.Lost)]
    public void Events_that_are_not_an_end_have_no_status(ProcessEventKind kind)
    {
        var e = With(kind, 0x0300); // a status field that is not a wait status must not be read as one
        Assert.Equal(((int?)null, (int?)null, false, ""), (e.ExitCode, e.TermSignal, e.CoreDumped, e.DescribeStatus()));
    }
}
