namespace Kmonitor.Client;

/// <summary>
/// The events a registration or subscription asks for: the event bits of
/// <c>include/linux/kmonitor.h</c> (<c>KMONITOR_THREAD_CREATE</c> ... <c>KMONITOR_PROCESS_EXIT</c>,
/// and <c>KMONITOR_PROCESS_EXISTING</c>).
/// </summary>
[Flags]
public enum ProcessEvents : uint
{
    /// <summary>No event (refused by the daemon: ask for at least one).</summary>
    None = 0,
    /// <summary>A process gained a thread (<c>KMONITOR_THREAD_CREATE</c>); the record's pid is the new thread.</summary>
    ThreadCreate = 0x01,
    /// <summary>A thread was killed by a signal (<c>KMONITOR_THREAD_ABORT</c>), reported before its ThreadExit.</summary>
    ThreadAbort = 0x02,
    /// <summary>A thread other than the leader exited (<c>KMONITOR_THREAD_EXIT</c>).</summary>
    ThreadExit = 0x04,
    /// <summary>The process forked (<c>KMONITOR_PROCESS_FORK</c>); the record's pid is the child, ppid the parent.</summary>
    ProcessFork = 0x08,
    /// <summary>The process was killed by a signal (<c>KMONITOR_PROCESS_ABORT</c>), reported before its ProcessExit.</summary>
    ProcessAbort = 0x10,
    /// <summary>The process called exec (<c>KMONITOR_PROCESS_EXEC</c>); the record carries the new name.</summary>
    ProcessExec = 0x20,
    /// <summary>The whole process is gone (<c>KMONITOR_PROCESS_EXIT</c>); the record carries its wait status.</summary>
    ProcessExit = 0x40,
    /// <summary>
    /// Subscriptions only (<c>KMONITOR_PROCESS_EXISTING</c>): report first every match already running,
    /// each as an <see cref="ProcessEventKind.Existing"/> event.
    /// </summary>
    Existing = 0x80,
    /// <summary>Every event bit (not <see cref="Existing"/>).</summary>
    All = 0x7F,
}
