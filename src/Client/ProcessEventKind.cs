namespace Kmonitor.Client;

/// <summary>What a <see cref="ProcessEvent"/> reports: one event bit, a running match, or lost records.</summary>
public enum ProcessEventKind
{
    /// <summary>A process gained a thread; <see cref="ProcessEvent.Pid"/> is the new thread.</summary>
    ThreadCreate,
    /// <summary>A thread was killed by a signal; its <see cref="ThreadExit"/> follows.</summary>
    ThreadAbort,
    /// <summary>A thread other than the leader exited.</summary>
    ThreadExit,
    /// <summary>A process forked; <see cref="ProcessEvent.Pid"/> is the child, <see cref="ProcessEvent.Ppid"/> the parent.</summary>
    ProcessFork,
    /// <summary>A process was killed by a signal; its <see cref="ProcessExit"/> follows.</summary>
    ProcessAbort,
    /// <summary>A process called exec; <see cref="ProcessEvent.Name"/> is its new name.</summary>
    ProcessExec,
    /// <summary>A whole process is gone; <see cref="ProcessEvent.WaitStatus"/> says how it ended.</summary>
    ProcessExit,
    /// <summary>A match that was already running when the subscription was made.</summary>
    Existing,
    /// <summary>
    /// The daemon dropped <see cref="ProcessEvent.LostCount"/> records here because they were not read
    /// fast enough (its queue for this connection was full).
    /// </summary>
    Lost,
}
