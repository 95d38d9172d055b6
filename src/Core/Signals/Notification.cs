namespace Kmonitor.Signals;

/// <summary>
/// Everything one notification says, whichever way it leaves: a queued signal carries
/// <see cref="Bit"/>, <see cref="Pid"/> and <see cref="Uid"/>; a record (struct kmonitor_event)
/// carries all of it. Pids are the daemon's (the initial pid namespace's); the
/// <see cref="Notifier"/> translates them for a monitor in another one.
/// </summary>
/// <param name="Bit">The event bit (si_int, the record's type).</param>
/// <param name="Pid">The task the event is about (si_pid).</param>
/// <param name="Tgid">Its process.</param>
/// <param name="Ppid">FORK and THREAD_CREATE: the process that forked; otherwise its parent, or 0 when not known.</param>
/// <param name="Uid">Its real uid (si_uid).</param>
/// <param name="Status">Exits and aborts: the wait status; otherwise 0.</param>
/// <param name="TimeNs">When it happened (CLOCK_MONOTONIC, the connector's timestamp).</param>
/// <param name="Comm">The process's name, or null when the sender does not know it (the notifier then uses what it has).</param>
public readonly record struct Notification(int Bit, int Pid, int Tgid, int Ppid, uint Uid, int Status, ulong TimeNs, string? Comm = null);
