namespace Kmonitor.Subscriptions;

/// <summary>
/// What a matched subscription is told: one record's worth, before the reader's view is applied.
/// Pids are global (the daemon's pid namespace): the notifier translates them into the reader's pid
/// namespace and drops what the reader cannot see.
/// </summary>
/// <param name="Bit">The event bit (KMONITOR_*), or KMONITOR_PROCESS_EXISTING.</param>
/// <param name="Pid">The task the event is about (what si_pid holds): the child of a PROCESS_FORK, the thread of THREAD_CREATE.</param>
/// <param name="Tgid">Its process.</param>
/// <param name="Ppid">PROCESS_FORK, THREAD_CREATE: the process that forked; else its parent, or 0 when unknown.</param>
/// <param name="Uid">Its real uid.</param>
/// <param name="Status">*_EXIT, *_ABORT: the wait status; else 0.</param>
/// <param name="TimeNs">The connector's timestamp (CLOCK_MONOTONIC); for EXISTING, the time of SUBSCRIBE.</param>
/// <param name="Comm">The process's name; at exit, the name it had.</param>
public readonly record struct SubscriptionEvent(int Bit, int Pid, int Tgid, int Ppid, uint Uid, int Status, ulong TimeNs, string Comm);

/// <summary>Where the engine's matches go: the notifier, which queues a record or sends the signal.</summary>
public interface ISubscriptionSink
{
    void Deliver(Subscription subscription, in SubscriptionEvent e);
}
