namespace Kmonitor.Client;

/// <summary>
/// One record of the device (<c>struct kmonitor_event</c>), decoded.
/// </summary>
/// <param name="Kind">What happened.</param>
/// <param name="Sequence">The record's number on its connection: 1, 2, 3, ... with no gap (Lost records count too).</param>
/// <param name="TimeNs">When it happened, in nanoseconds of <c>CLOCK_MONOTONIC</c> (for Existing, the time of the subscription).</param>
/// <param name="Pid">The task the event is about (for ProcessFork the child, for ThreadCreate the new thread), as this process's pid namespace sees it.</param>
/// <param name="Tgid">The process of that task.</param>
/// <param name="Ppid">For ProcessFork and ThreadCreate the process that forked; otherwise its parent, or 0.</param>
/// <param name="Uid">The task's real uid.</param>
/// <param name="WaitStatus">For exits and aborts, the wait status (see <see cref="ExitCode"/>, <see cref="TermSignal"/>); otherwise 0.</param>
/// <param name="Watch">Which request this answers: the pid given to Register, or the id a Subscribe method returned.</param>
/// <param name="Name">The process name (comm, at most 15 bytes); at exit, the name it had.</param>
/// <param name="LostCount">For <see cref="ProcessEventKind.Lost"/>, how many records the daemon dropped; otherwise 0.</param>
public readonly record struct ProcessEvent(ProcessEventKind Kind, uint Sequence, ulong TimeNs, int Pid, int Tgid, int Ppid,
    uint Uid, int WaitStatus, uint Watch, string Name, int LostCount)
{
    /// <summary>Whether <see cref="WaitStatus"/> means anything: the event is an exit or an abort.</summary>
    public bool HasStatus => Kind is ProcessEventKind.ProcessExit or ProcessEventKind.ThreadExit
        or ProcessEventKind.ProcessAbort or ProcessEventKind.ThreadAbort;

    /// <summary>The exit code (<c>WEXITSTATUS</c>) when the task exited by itself (<c>WIFEXITED</c>); otherwise null.</summary>
    public int? ExitCode => HasStatus && (WaitStatus & 0x7F) == 0 ? (WaitStatus >> 8) & 0xFF : null;

    /// <summary>The signal that killed the task (<c>WTERMSIG</c>) when one did (<c>WIFSIGNALED</c>); otherwise null.</summary>
    public int? TermSignal => HasStatus && (WaitStatus & 0x7F) is not 0 and not 0x7F ? WaitStatus & 0x7F : null;

    /// <summary>Whether the signal that killed the task left a core dump (<c>WCOREDUMP</c>).</summary>
    public bool CoreDumped => TermSignal is not null && (WaitStatus & 0x80) != 0;

    /// <summary>
    /// How the task ended, in words: <c>exited 3</c>, <c>killed by SIGTERM</c>,
    /// <c>killed by SIGSEGV (core dumped)</c>; an empty string for an event that carries no status.
    /// </summary>
    public string DescribeStatus()
    {
        if (ExitCode is int code)
            return $"exited {code}";
        if (TermSignal is int signal)
            return $"killed by {SignalNames.Name(signal)}" + (CoreDumped ? " (core dumped)" : "");
        return HasStatus ? $"status 0x{WaitStatus:X}" : "";
    }
}
