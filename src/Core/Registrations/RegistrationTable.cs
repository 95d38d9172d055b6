namespace Kmonitor.Registrations;

/// <summary>
/// The registrations, in 256 buckets chosen by a multiplicative hash of the target pid (as the
/// kernel's hash_long(pid, 8) did for the 2004 driver), one lock per bucket. Inside a bucket the
/// targets are a dictionary, not a list, so a million registrations still match in O(1).
/// </summary>
public sealed class RegistrationTable
{
    public const int BucketBits = 8;
    public const int BucketCount = 1 << BucketBits;

    /// <summary>GOLDEN_RATIO_64 of the kernel's linux/hash.h.</summary>
    private const ulong GoldenRatio64 = 0x61C8864680B583EB;

    private sealed class Bucket(IEqualityComparer<int>? targetComparer)
    {
        public readonly Dictionary<int, List<Registration>> ByTarget = new(targetComparer);
    }

    private readonly Bucket[] _buckets = new Bucket[BucketCount];
    private readonly Events.MonotonicClock _clock;
    private int _count;

    /// <param name="clock">What stamps registrations (default: the kernel's monotonic clock).</param>
    /// <param name="targetComparer">How target pids are compared inside a bucket; null, the default, is
    /// int's own. A test passes one that counts, to show how few comparisons a match takes.</param>
    public RegistrationTable(Events.MonotonicClock? clock = null, IEqualityComparer<int>? targetComparer = null)
    {
        _clock = clock ?? Events.MonotonicClock.System;
        for (int i = 0; i < _buckets.Length; i++)
            _buckets[i] = new Bucket(targetComparer);
    }

    /// <summary>Registrations in the table now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The bucket of a target pid: the top 8 bits of pid × GOLDEN_RATIO_64.</summary>
    public static int BucketOf(int pid) => (int)(unchecked((ulong)(uint)pid * GoldenRatio64) >> (64 - BucketBits));

    /// <summary>The clock of proc_event.timestamp_ns: CLOCK_MONOTONIC in nanoseconds.</summary>
    public static long MonotonicNowNs() => Events.MonotonicClock.System.NowNs();

    /// <summary>Now, by the clock that stamps this table's registrations.</summary>
    public long NowNs() => _clock.NowNs();

    /// <summary>An event stamp newer than any registration: for callers that act on the present.</summary>
    public const ulong Now = ulong.MaxValue >> 1;

    public void Add(Registration registration, int mask, int signal, MonitorProcess monitor)
    {
        var bucket = _buckets[BucketOf(registration.Target)];
        lock (bucket)
        {
            registration.CreatedAtNs = registration.ChangedAtNs = _clock.NowNs();
            registration.MaskBefore = 0;
            registration.Mask = mask;
            registration.Signal = signal;
            registration.Monitor = monitor;
            if (!bucket.ByTarget.TryGetValue(registration.Target, out var list))
                bucket.ByTarget[registration.Target] = list = new List<Registration>(1);
            registration.SlotInTarget = list.Count;
            list.Add(registration);
            Interlocked.Increment(ref _count); // the buckets' locks are different locks: only an atomic count stays right
        }
    }

    /// <summary>A registration taken over from the previous instance, with the stamps it had there (the same clock).</summary>
    public void Restore(Registration registration, int mask, int maskBefore, int signal, MonitorProcess monitor, long createdAtNs, long changedAtNs)
    {
        Add(registration, mask, signal, monitor);
        lock (_buckets[BucketOf(registration.Target)])
        {
            registration.CreatedAtNs = createdAtNs;
            registration.ChangedAtNs = changedAtNs;
            registration.MaskBefore = maskBefore;
        }
    }

    /// <summary>Changes a registration in place (REGISTER on an existing one, DEREGISTER of some bits).</summary>
    public void Update(Registration registration, int mask, int signal, MonitorProcess monitor)
    {
        lock (_buckets[BucketOf(registration.Target)])
        {
            // Events already in flight keep only the bits that stay: new bits are for what happens from now on.
            registration.MaskBefore = registration.Mask & mask;
            registration.ChangedAtNs = _clock.NowNs();
            registration.Mask = mask;
            registration.Signal = signal;
            registration.Monitor = monitor;
        }
    }

    /// <summary>Takes a registration out; false when it was already out.</summary>
    public bool Remove(Registration registration)
    {
        var bucket = _buckets[BucketOf(registration.Target)];
        lock (bucket)
        {
            if (registration.Removed)
                return false;
            registration.Removed = true;
            if (bucket.ByTarget.TryGetValue(registration.Target, out var list))
            {
                RemoveAt(list, registration.SlotInTarget);
                if (list.Count == 0)
                    bucket.ByTarget.Remove(registration.Target);
            }
            Interlocked.Decrement(ref _count);
            return true;
        }
    }

    /// <summary>
    /// Adds to <paramref name="matches"/> every registration on <paramref name="pid"/> whose mask, for an
    /// event stamped <paramref name="timestampNs"/>, has <paramref name="bit"/>; with the signal and
    /// monitor it has at this moment. Allocates nothing once <paramref name="matches"/> has grown.
    /// </summary>
    public void CollectMatches(int pid, int bit, ulong timestampNs, List<Match> matches)
    {
        var bucket = _buckets[BucketOf(pid)];
        lock (bucket)
        {
            if (!bucket.ByTarget.TryGetValue(pid, out var list))
                return;
            foreach (var registration in list)
            {
                int mask = registration.MaskAt(timestampNs);
                if ((mask & bit) != 0)
                    matches.Add(new Match(registration, mask, registration.Signal, registration.Monitor));
            }
        }
    }

    /// <summary>
    /// The task <paramref name="pid"/> ended at <paramref name="timestampNs"/>: removes the registrations
    /// on it that were made before that, and returns them with the mask that applies.
    /// </summary>
    public void TakeTarget(int pid, ulong timestampNs, List<Match> taken, Exits.WatchedProcess? boundTo = null)
    {
        var bucket = _buckets[BucketOf(pid)];
        lock (bucket)
        {
            if (!bucket.ByTarget.TryGetValue(pid, out var list))
                return;
            for (int i = list.Count - 1; i >= 0; i--)
            {
                var registration = list[i];
                if ((long)timestampNs < registration.CreatedAtNs)
                    continue; // made after this task ended: it is about a later task with the same pid
                if (boundTo is not null && registration.Process != boundTo)
                    continue; // held by another process that has the pid now
                registration.Removed = true;
                taken.Add(new Match(registration, registration.MaskAt(timestampNs), registration.Signal, registration.Monitor));
                RemoveAt(list, i); // the last one comes here, and it has been looked at already
                Interlocked.Decrement(ref _count);
            }
            if (list.Count == 0)
                bucket.ByTarget.Remove(pid);
        }
    }

    /// <summary>
    /// Removes slot <paramref name="i"/> by moving the last registration into it: O(1), so closing many
    /// files that watch the same processes is not quadratic. Order on a target carries no meaning.
    /// </summary>
    private static void RemoveAt(List<Registration> list, int i)
    {
        var last = list[^1];
        list[i] = last;
        last.SlotInTarget = i;
        list.RemoveAt(list.Count - 1);
    }

    /// <summary>Every target pid in the table, with the process instance its registrations hold (for a resync).</summary>
    public List<(int Pid, Exits.WatchedProcess? Process)> Targets()
    {
        var targets = new List<(int, Exits.WatchedProcess?)>();
        foreach (var bucket in _buckets)
        {
            lock (bucket)
            {
                foreach (var (pid, list) in bucket.ByTarget)
                {
                    foreach (var process in list.Select(r => r.Process).Distinct())
                        targets.Add((pid, process));
                }
            }
        }
        return targets;
    }

    /// <summary>A task's real uid changed (the connector's UID event): registrations on it report the new one.</summary>
    public void UpdateUid(int pid, uint realUid, ulong timestampNs)
    {
        var bucket = _buckets[BucketOf(pid)];
        lock (bucket)
        {
            if (!bucket.ByTarget.TryGetValue(pid, out var list))
                return;
            foreach (var registration in list)
            {
                if ((long)timestampNs >= registration.CreatedAtNs)
                    registration.TargetUid = realUid;
            }
        }
    }

    /// <summary>A task was renamed (the connector's COMM event): records about it carry the new name. Under the dispatch lock only.</summary>
    public void UpdateComm(int pid, string comm)
    {
        var bucket = _buckets[BucketOf(pid)];
        lock (bucket)
        {
            if (!bucket.ByTarget.TryGetValue(pid, out var list))
                return;
            foreach (var registration in list)
                registration.Comm = comm;
        }
    }

    /// <summary>Whether any registration targets <paramref name="pid"/> (a cheap test for the dispatcher and tests).</summary>
    public bool HasTarget(int pid)
    {
        var bucket = _buckets[BucketOf(pid)];
        lock (bucket)
            return bucket.ByTarget.ContainsKey(pid);
    }
}

/// <summary>A registration as it was when an event matched it.</summary>
public readonly record struct Match(Registration Registration, int Mask, int Signal, MonitorProcess Monitor);
