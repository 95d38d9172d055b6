using Kmonitor.Events;
using static Kmonitor.Abi.KmonitorAbi;

namespace Kmonitor.Tests.Unit;

public class EventMapperTests
{
    private static KmonitorEvent[] Map(ProcEvent ev)
    {
        var output = new KmonitorEvent[EventMapper.MaxPerEvent];
        return output[..EventMapper.Map(ev, output)];
    }

    [Fact]
    public void A_forked_process_is_PROCESS_FORK_of_the_forking_task_about_the_child()
    {
        // Thread 101 of process 100 forks process 200.
        var e = Assert.Single(Map(ProcEvent.Fork(parentPid: 101, parentTgid: 100, childPid: 200, childTgid: 200)));
        Assert.Equal(new KmonitorEvent(KMONITOR_PROCESS_FORK, TaskPid: 101, ProcessPid: 100, SubjectPid: 200), e);
    }

    [Fact]
    public void A_new_thread_is_THREAD_CREATE_of_the_process_that_gained_it()
    {
        // The kernel names the parent of the whole process (1) as the parent of thread 301 of process 300.
        var e = Assert.Single(Map(ProcEvent.Fork(parentPid: 1, parentTgid: 1, childPid: 301, childTgid: 300)));
        Assert.Equal(new KmonitorEvent(KMONITOR_THREAD_CREATE, TaskPid: 300, ProcessPid: 300, SubjectPid: 301), e);
    }

    [Fact]
    public void Exec_is_PROCESS_EXEC_of_the_task()
    {
        var e = Assert.Single(Map(ProcEvent.Exec(400, 400)));
        Assert.Equal(new KmonitorEvent(KMONITOR_PROCESS_EXEC, 400, 400, 400), e);
    }

    [Theory]
    [InlineData(0)]        // exit(0)
    [InlineData(3 << 8)]   // exit(3)
    public void A_leader_exiting_normally_is_PROCESS_EXIT_only(int exitCode)
    {
        var e = Assert.Single(Map(ProcEvent.Exit(500, 500, exitCode)));
        Assert.Equal(new KmonitorEvent(KMONITOR_PROCESS_EXIT, 500, 500, 500), e);
        Assert.True(e.EndsTask);
    }

    [Fact]
    public void A_leader_killed_by_a_signal_is_PROCESS_ABORT_then_PROCESS_EXIT()
    {
        var events = Map(ProcEvent.Exit(500, 500, exitCode: 9));
        Assert.Equal([KMONITOR_PROCESS_ABORT, KMONITOR_PROCESS_EXIT], events.Select(e => e.Bit));
    }

    [Fact]
    public void Another_thread_exiting_is_THREAD_EXIT_matched_on_it_and_its_process()
    {
        var e = Assert.Single(Map(ProcEvent.Exit(601, 600, 0)));
        Assert.Equal(new KmonitorEvent(KMONITOR_THREAD_EXIT, 601, 600, 601), e);
    }

    [Fact]
    public void A_thread_killed_with_its_process_is_THREAD_ABORT_then_THREAD_EXIT()
    {
        var events = Map(ProcEvent.Exit(601, 600, exitCode: 15));
        Assert.Equal([KMONITOR_THREAD_ABORT, KMONITOR_THREAD_EXIT], events.Select(e => e.Bit));
    }

    [Fact]
    public void Other_connector_events_map_to_nothing()
    {
        Assert.Empty(Map(new ProcEvent(ProcEventWhat.PROC_EVENT_UID, 0, 0, 0, 1, 1, 0, 0, 0)));
        Assert.Empty(Map(new ProcEvent(ProcEventWhat.PROC_EVENT_NONE, 0, 0, 0, 0, 0, 0, 0, 0)));
    }
}
