using Kmonitor.Client;
using Kmonitor.Command.Output;
using Kmonitor.Command.Status;

namespace Kmonitor.Tests.Unit.Command;

/// <summary>The kmonitor command's words and lines, which scripts and kmonitor(1) depend on.</summary>
public class CommandOutputTests
{
    [Theory]
    [InlineData("fork,exec,exit", ProcessEvents.ProcessFork | ProcessEvents.ProcessExec | ProcessEvents.ProcessExit)]
    [InlineData("thread", ProcessEvents.ThreadCreate | ProcessEvents.ThreadExit | ProcessEvents.ThreadAbort)]
    [InlineData("all", ProcessEvents.All)]
    [InlineData(" Exit , abort", ProcessEvents.ProcessExit | ProcessEvents.ProcessAbort)]
    public void Events_lists_parse_to_their_bits(string list, ProcessEvents expected)
    {
        Assert.Equal(expected, EventNames.Parse(list, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("fork,explode")]
    [InlineData("existing")] // --existing says that, not --events
    [InlineData("")]
    public void Unknown_events_are_named_in_the_error(string list)
    {
        Assert.Null(EventNames.Parse(list, out var error));
        Assert.Contains("unknown event", error);
    }

    [Fact]
    public void Every_kind_has_a_word_and_the_words_are_distinct()
    {
        var words = Enum.GetValues<ProcessEventKind>().Select(EventNames.Of).ToList();
        Assert.Equal(words.Count, words.Distinct().Count());
        Assert.Equal("lost", EventNames.Of(ProcessEventKind.Lost));
    }

    [Fact]
    public void A_watch_line_has_time_event_pid_ppid_uid_name_and_for_an_exit_its_status()
    {
        var clock = new Clock();
        var exit = new ProcessEvent(ProcessEventKind.ProcessExit, 7, Clock.NowNs(), 4242, 4242, 1, 1000, 3 << 8, 1, "sleep", 0);
        var fields = EventText.Line(exit, clock).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^\d\d:\d\d:\d\d\.\d{6}$", fields[0]);
        Assert.Equal(["exit", "4242", "1", "1000", "sleep", "exited", "3"], fields[1..]);
        Assert.Equal(3, EventText.ExitCodeOf(exit));
        var killed = exit with { WaitStatus = 9 };
        Assert.Equal(137, EventText.ExitCodeOf(killed));
        var exec = exit with { Kind = ProcessEventKind.ProcessExec };
        Assert.EndsWith(" sleep", EventText.Line(exec, clock)); // no status but for exits and aborts
    }

    [Fact]
    public void A_name_the_daemon_could_not_read_is_printed_as_a_question_mark_so_the_columns_stay()
    {
        var clock = new Clock();
        var exit = new ProcessEvent(ProcessEventKind.ProcessExit, 7, Clock.NowNs(), 4242, 4242, 1, 1000, 0, 1, "", 0);
        var fields = EventText.Line(exit, clock).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["exit", "4242", "1", "1000", "?", "exited", "0"], fields[1..]);
        Assert.Equal("sleep", EventText.NameOf(exit with { Name = "sleep" }));
    }

    [Fact]
    public void The_status_socket_is_named_after_the_device_or_the_FUSE_file_it_links_to()
    {
        Assert.Equal("kmt-no-such-device", StatusSocket.NameOf("/dev/kmt-no-such-device"));
        Assert.Equal("other", StatusSocket.NameOf("/run/kmonitor/other/device"));
        Assert.Equal("/run/kmonitor/other.sock", StatusSocket.PathFor("other"));
    }
}
