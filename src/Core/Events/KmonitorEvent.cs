using Kmonitor.Abi;

namespace Kmonitor.Events;

/// <summary>
/// One kmonitor notification that a process event calls for, before matching.
/// </summary>
/// <param name="Bit">The event bit (KMONITOR_*), which goes into si_int.</param>
/// <param name="TaskPid">The task whose registrations match (the thread id of the original driver).</param>
/// <param name="ProcessPid">Its thread group: registrations on it match too (a superset of the original).</param>
/// <param name="SubjectPid">The task the notification is about: si_pid.</param>
public readonly record struct KmonitorEvent(int Bit, int TaskPid, int ProcessPid, int SubjectPid)
{
    /// <summary>An exit (or the abort that precedes it): the task ends, and so do registrations on it.</summary>
    public bool EndsTask => (Bit & KmonitorAbi.ExitEvents) != 0;

    public override string ToString() => $"{KmonitorAbi.EventName(Bit)} task {TaskPid} process {ProcessPid} si_pid {SubjectPid}";
}

/// <summary>Turns process-connector events into the notifications of the 2004 ABI.</summary>
public static class EventMapper
{
    /// <summary>At most two notifications come from one event: an ABORT and its EXIT.</summary>
    public const int MaxPerEvent = 2;

    /// <summary>Writes the notifications for <paramref name="ev"/> into <paramref name="output"/>; returns how many.</summary>
    public static int Map(in ProcEvent ev, Span<KmonitorEvent> output)
    {
        switch (ev.What)
        {
            case ProcEventWhat.PROC_EVENT_FORK when ev.Pid == ev.Tgid:
                // A new process: about the forking task (the event's parent), si_pid the child.
                output[0] = new KmonitorEvent(KmonitorAbi.KMONITOR_PROCESS_FORK, ev.ParentPid, ev.ParentTgid, ev.Pid);
                return 1;

            case ProcEventWhat.PROC_EVENT_FORK:
                // A new thread. The kernel names the parent of the whole process as the event's parent,
                // not the creating thread, so the match is on the process that gained the thread.
                output[0] = new KmonitorEvent(KmonitorAbi.KMONITOR_THREAD_CREATE, ev.Tgid, ev.Tgid, ev.Pid);
                return 1;

            case ProcEventWhat.PROC_EVENT_EXEC:
                output[0] = new KmonitorEvent(KmonitorAbi.KMONITOR_PROCESS_EXEC, ev.Pid, ev.Tgid, ev.Pid);
                return 1;

            case ProcEventWhat.PROC_EVENT_EXIT:
                bool leader = ev.Pid == ev.Tgid;
                int n = 0;
                if (Procfs.TaskExitCode.IsKilledBySignal(ev.ExitCode))
                    output[n++] = new KmonitorEvent(leader ? KmonitorAbi.KMONITOR_PROCESS_ABORT : KmonitorAbi.KMONITOR_THREAD_ABORT, ev.Pid, ev.Tgid, ev.Pid);
                output[n++] = new KmonitorEvent(leader ? KmonitorAbi.KMONITOR_PROCESS_EXIT : KmonitorAbi.KMONITOR_THREAD_EXIT, ev.Pid, ev.Tgid, ev.Pid);
                return n;

            default:
                return 0;
        }
    }
}
