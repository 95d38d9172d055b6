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

    private sealed class Bucket
    {
        public readonly Dictionary<int, List<Registration>> ByTarget = [];
    }

    private readonly Bucket[] _buckets = new Bucket[BucketCount];
    private int _count;

    public RegistrationTable()
    {
        for (int i = 0; i < _buckets.Length; i++)
            _buckets[i] = new Bucket();
    }

    /// <summary>Registrations in the table now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The bucket of a target pid: the top 8 bits of pid × GOLDEN_RATIO_64.</summary>
    public static int BucketOf(int pid) => (int)(unchecked((ulong)(uint)pid * GoldenRatio64) >> (64 - BucketBits));

    public void Add(Registration registration, int mask, int signal, MonitorProcess monitor)
    {
        var bucket = _buckets[BucketOf(registration.Target)];
        lock (bucket)
        {
            registration.Mask = mask;
            registration.Signal = signal;
            registration.Monitor = monitor;
            if (!bucket.ByTarget.TryGetValue(registration.Target, out var list))
                bucket.ByTarget[registration.Target] = list = new List<Registration>(1);
            list.Add(registration);
            _count++;
        }
    }

    /// <summary>Changes a registration in place (REGISTER on an existing one, DEREGISTER of some bits).</summary>
    public void Update(Registration registration, int mask, int signal, MonitorProcess monitor)
    {
        lock (_buckets[BucketOf(registration.Target)])
        {
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
                list.Remove(registration);
                if (list.Count == 0)
                    bucket.ByTarget.Remove(registration.Target);
            }
            _count--;
            return true;
        }
    }

    /// <summary>
    /// Adds to <paramref name="matches"/> every registration on <paramref name="pid"/> whose mask has
    /// <paramref name="bit"/>, with the signal and monitor it has at this moment. Allocates nothing
    /// once <paramref name="matches"/> has grown to its working size.
    /// </summary>
    public void CollectMatches(int pid, int bit, List<Match> matches)
    {
        var bucket = _buckets[BucketOf(pid)];
        lock (bucket)
        {
            if (!bucket.ByTarget.TryGetValue(pid, out var list))
                return;
            foreach (var registration in list)
            {
                if ((registration.Mask & bit) != 0)
                    matches.Add(new Match(registration, registration.Mask, registration.Signal, registration.Monitor));
            }
        }
    }

    /// <summary>Removes every registration on <paramref name="pid"/> (the task has ended) and returns them with their state.</summary>
    public void TakeTarget(int pid, List<Match> taken)
    {
        var bucket = _buckets[BucketOf(pid)];
        lock (bucket)
        {
            if (!bucket.ByTarget.Remove(pid, out var list))
                return;
            foreach (var registration in list)
            {
                registration.Removed = true;
                taken.Add(new Match(registration, registration.Mask, registration.Signal, registration.Monitor));
                _count--;
            }
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
