namespace Kmonitor.Diagnostics;

/// <summary>
/// What the engine has done since it started. Written with Interlocked by the thread that does
/// the work, read by anyone.
/// </summary>
public sealed class Counters
{
    public long EventsReceived;
    public long EventsMatched;
    public long NotificationsSent;
    public long DroppedNoBuffers;        // ENOBUFS from the netlink socket: the kernel dropped events
    public long DroppedRingFull;         // events the listener could not put into a full ring
    public long DroppedQueueFull;        // EAGAIN from pidfd_send_signal: the monitor's signal queue is full
    public long DroppedMonitorGone;      // ESRCH from pidfd_send_signal: the monitor has exited
    public long ExitsFromPidfd;          // exits reported by the pidfd watcher because netlink did not
    public long EventsLost;              // events the kernel dropped, from per-CPU sequence gaps (an upper bound with the event filter)
    public long OverflowEpisodes;        // bursts of ENOBUFS or ring-full drops, each logged once
    public long Resyncs;                 // checks of every registered target after an overflow
    public long ExitsFromResync;         // ended targets a resync found
    public long DroppedInvisible;        // notifications about a task the monitor's pid namespace cannot see
    public long RecordsQueued;           // records queued on open files (LOST records not included)
    public long RecordsDropped;          // records dropped because the file's queue was full (each LOST record reports its file's)
    public long Subscribes;
    public long Registers;
    public long Deregisters;
    public long NamesUnreadAtExec;       // EXECs whose process was reaped before /proc/PID/comm could be read: NAME/REGEX could not decide
    public long CommandLineMisses;       // EXECs whose command line read empty (a zombie by then) for a KMONITOR_MATCH_CMDLINE subscription
    public long TreeMembersLost;         // TREE members gone from /proc when membership was rebuilt after an overflow

    /// <summary>Every counter under its status-report name, in a fixed order.</summary>
    public IReadOnlyList<(string Name, long Value)> Snapshot() =>
    [
        ("events_received", Interlocked.Read(ref EventsReceived)),
        ("events_matched", Interlocked.Read(ref EventsMatched)),
        ("notifications_sent", Interlocked.Read(ref NotificationsSent)),
        ("dropped_enobufs", Interlocked.Read(ref DroppedNoBuffers)),
        ("dropped_ring_full", Interlocked.Read(ref DroppedRingFull)),
        ("dropped_eagain", Interlocked.Read(ref DroppedQueueFull)),
        ("dropped_esrch", Interlocked.Read(ref DroppedMonitorGone)),
        ("exits_from_pidfd", Interlocked.Read(ref ExitsFromPidfd)),
        ("events_lost", Interlocked.Read(ref EventsLost)),
        ("overflow_episodes", Interlocked.Read(ref OverflowEpisodes)),
        ("resyncs", Interlocked.Read(ref Resyncs)),
        ("exits_from_resync", Interlocked.Read(ref ExitsFromResync)),
        ("dropped_invisible", Interlocked.Read(ref DroppedInvisible)),
        ("records_queued", Interlocked.Read(ref RecordsQueued)),
        ("records_dropped", Interlocked.Read(ref RecordsDropped)),
        ("subscribes", Interlocked.Read(ref Subscribes)),
        ("registers", Interlocked.Read(ref Registers)),
        ("deregisters", Interlocked.Read(ref Deregisters)),
        ("names_unread", Interlocked.Read(ref NamesUnreadAtExec)),
        ("cmdline_unread", Interlocked.Read(ref CommandLineMisses)),
        ("tree_members_lost", Interlocked.Read(ref TreeMembersLost)),
    ];

    public override string ToString() => string.Join(", ", Snapshot().Select(c => $"{c.Name} {c.Value}"));
}
