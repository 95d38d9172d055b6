namespace Kmonitor.Subscriptions;

/// <summary>
/// A process as the subscription engine remembers it from its fork, exec or the /proc scan to its
/// exit: its name survives /proc, so EXIT records carry the name it had. <see cref="Members"/> is the
/// TREE, NAME and REGEX subscriptions it belongs to (ALL is implicit), never changed in place but
/// replaced, so a forked child shares its parent's array until one of them changes.
/// </summary>
internal sealed class TrackedProcess(int tgid, int ppid, uint uid, string comm, Subscription[] members)
{
    public int Tgid { get; private set; } = tgid;

    public int Ppid { get; set; } = ppid;

    /// <summary>Its real uid, kept current by UID events: what each record's policy test reads.</summary>
    public uint Uid { get; set; } = uid;

    /// <summary>Its name at its last exec (or the scan), or after a COMM event.</summary>
    public string Comm { get; set; } = comm;

    public Subscription[] Members { get; set; } = members;

    /// <summary>
    /// Its tasks still to report an exit, counted as the dispatcher counts a registered process's:
    /// the number /proc showed, changed by thread FORKs and EXITs stamped after that reading. A
    /// PROCESS_EXIT means the whole thread group is gone, so it waits for this to reach 0.
    /// </summary>
    public int Tasks { get; private set; } = 1;

    /// <summary>When <see cref="Tasks"/> was read: events stamped before are already in it.</summary>
    public ulong CountedSinceNs { get; private set; }

    /// <summary>The leader has exited (pthread_exit, or first of an exit_group): the process ends with its last task.</summary>
    public bool LeaderGone { get; set; }

    /// <summary>Starts the count over from a reading of /proc taken at <paramref name="readAtNs"/>.</summary>
    public void CountFrom(int tasks, ulong readAtNs)
    {
        Tasks = tasks;
        CountedSinceNs = readAtNs;
    }

    /// <summary>A task was born (+1) or has exited (-1) at <paramref name="timestampNs"/>.</summary>
    public void CountTask(int delta, ulong timestampNs)
    {
        if (timestampNs >= CountedSinceNs)
            Tasks += delta;
    }

    /// <summary>
    /// Makes a forgotten one (its process has exited and nothing refers to it) stand for another
    /// process, as the constructor would: the engine keeps a few to spare, so that the fork and exit
    /// of every process on the machine do not each leave an object for the GC.
    /// </summary>
    public void Reuse(int tgid, int ppid, uint uid, string comm, Subscription[] members)
    {
        Tgid = tgid;
        Ppid = ppid;
        Uid = uid;
        Comm = comm;
        Members = members;
        Tasks = 1;
        CountedSinceNs = 0;
        LeaderGone = false;
    }

    public bool IsMemberOf(Subscription subscription) => Array.IndexOf(Members, subscription) >= 0;

    /// <summary>The memberships a child forked at <paramref name="timestampNs"/> inherits: those that count by then.</summary>
    public Subscription[] MembersAt(ulong timestampNs)
    {
        var members = Members;
        foreach (var s in members)
        {
            if (s.StartNs > timestampNs)
                return Array.FindAll(members, m => m.StartNs <= timestampNs);
        }
        return members;
    }

    /// <summary>Adds the subscriptions it does not have yet.</summary>
    public void Join(Subscription[] subscriptions)
    {
        if (subscriptions.Length == 0 || ReferenceEquals(subscriptions, Members))
            return;
        List<Subscription>? added = null;
        foreach (var s in subscriptions)
        {
            if (!IsMemberOf(s))
                (added ??= [.. Members]).Add(s);
        }
        if (added is not null)
            Members = [.. added];
    }

    public void Join(Subscription subscription)
    {
        if (!IsMemberOf(subscription))
            Members = [.. Members, subscription];
    }

    /// <summary>Drops the memberships of subscriptions no longer installed; false when it had none.</summary>
    public bool DropRemoved()
    {
        foreach (var s in Members)
        {
            if (!s.Installed)
            {
                Members = Array.FindAll(Members, m => m.Installed);
                return true;
            }
        }
        return false;
    }

    public override string ToString() => $"process {Tgid} '{Comm}' uid {Uid} ppid {Ppid}, {Members.Length} memberships";
}
