using Kmonitor.Abi;
using Kmonitor.Registrations;

namespace Kmonitor.Tests.Unit;

public class RegistrationTableTests
{
    [Theory]
    // hash_long(pid, 8) on 64-bit: the top 8 bits of pid * 0x61C8864680B583EB, worked out by hand.
    [InlineData(0, 0)]
    [InlineData(1, 0x61)]
    [InlineData(2, 0xC3)]
    [InlineData(3, 0x25)]
    public void BucketOf_is_the_kernels_hash_long_of_the_pid(int pid, int bucket) =>
        Assert.Equal(bucket, RegistrationTable.BucketOf(pid));

    [Fact]
    public void Sequential_pids_spread_over_all_256_buckets_evenly()
    {
        var counts = new int[RegistrationTable.BucketCount];
        for (int pid = 1; pid <= 256_000; pid++)
            counts[RegistrationTable.BucketOf(pid)]++;
        Assert.All(counts, c => Assert.InRange(c, 900, 1100));
    }

    private static (Registration, MonitorProcess?) NewRegistration(int target, DeviceFile? file = null) =>
        (new Registration(target, target, 1000, file ?? new DeviceFile(1)), null);

    [Fact]
    public void A_registration_matches_only_the_bits_of_its_mask()
    {
        var table = new RegistrationTable();
        var (registration, _) = NewRegistration(42);
        table.Add(registration, KmonitorAbi.KMONITOR_PROCESS_EXIT | KmonitorAbi.KMONITOR_PROCESS_FORK, 40, null!);
        var matches = new List<Match>();

        table.CollectMatches(42, KmonitorAbi.KMONITOR_PROCESS_EXEC, RegistrationTable.Now, matches);
        Assert.Empty(matches);
        table.CollectMatches(43, KmonitorAbi.KMONITOR_PROCESS_EXIT, RegistrationTable.Now, matches);
        Assert.Empty(matches);
        table.CollectMatches(42, KmonitorAbi.KMONITOR_PROCESS_EXIT, RegistrationTable.Now, matches);
        var match = Assert.Single(matches);
        Assert.Same(registration, match.Registration);
        Assert.Equal(40, match.Signal);
    }

    [Fact]
    public void Update_changes_mask_and_signal_in_place()
    {
        var table = new RegistrationTable();
        var (registration, _) = NewRegistration(7);
        table.Add(registration, KmonitorAbi.KMONITOR_PROCESS_EXEC, 40, null!);
        table.Update(registration, KmonitorAbi.KMONITOR_PROCESS_EXEC | KmonitorAbi.KMONITOR_PROCESS_EXIT, 41, null!);
        var matches = new List<Match>();
        table.CollectMatches(7, KmonitorAbi.KMONITOR_PROCESS_EXIT, RegistrationTable.Now, matches);
        Assert.Equal(41, Assert.Single(matches).Signal);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Remove_takes_a_registration_out_once()
    {
        var table = new RegistrationTable();
        var (registration, _) = NewRegistration(7);
        table.Add(registration, KmonitorAbi.KMONITOR_PROCESS_EXIT, 40, null!);
        Assert.True(table.Remove(registration));
        Assert.False(table.Remove(registration));
        Assert.Equal(0, table.Count);
        Assert.False(table.HasTarget(7));
        Assert.True(registration.Removed);
    }

    [Fact]
    public void TakeTarget_removes_every_registration_on_the_target_and_no_other()
    {
        var table = new RegistrationTable();
        var a = new Registration(5, 5, 0, new DeviceFile(1));
        var b = new Registration(5, 5, 0, new DeviceFile(2));
        var c = new Registration(6, 6, 0, new DeviceFile(1));
        foreach (var r in new[] { a, b, c })
            table.Add(r, KmonitorAbi.KMONITOR_PROCESS_FORK, 40, null!);
        var taken = new List<Match>();
        table.TakeTarget(5, RegistrationTable.Now, taken);
        Assert.Equal(2, taken.Count);
        Assert.Equal(1, table.Count);
        Assert.True(table.HasTarget(6));
        Assert.False(table.HasTarget(5));
    }

    [Fact]
    public void Removing_any_of_many_registrations_on_one_target_leaves_exactly_the_others()
    {
        var table = new RegistrationTable();
        var files = Enumerable.Range(1, 50).Select(i => new Registration(5, 5, 0, new DeviceFile((ulong)i))).ToList();
        foreach (var (r, i) in files.Select((r, i) => (r, i)))
            table.Add(r, KmonitorAbi.KMONITOR_PROCESS_FORK, 34 + i % 30, null!);
        var rng = new Random(1);
        var left = files.ToHashSet();
        foreach (var r in files.OrderBy(_ => rng.Next()).Take(40))
        {
            Assert.True(table.Remove(r));
            left.Remove(r);
            var matches = new List<Match>();
            table.CollectMatches(5, KmonitorAbi.KMONITOR_PROCESS_FORK, RegistrationTable.Now, matches);
            Assert.Equal(left, matches.Select(m => m.Registration).ToHashSet());
        }
        var taken = new List<Match>();
        table.TakeTarget(5, RegistrationTable.Now, taken);
        Assert.Equal(left, taken.Select(m => m.Registration).ToHashSet());
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Exit_is_claimed_exactly_once()
    {
        var (registration, _) = NewRegistration(9);
        var winners = 0;
        Parallel.For(0, 64, _ => { if (registration.TryClaimExit()) Interlocked.Increment(ref winners); });
        Assert.Equal(1, winners);
    }

    /// <summary>Counts what the table asks of its target pids: a linear scan would ask once per registration.</summary>
    private sealed class CountingComparer : IEqualityComparer<int>
    {
        public long Hashes, Comparisons;

        public bool Equals(int x, int y)
        {
            Comparisons++;
            return x == y;
        }

        public int GetHashCode(int pid)
        {
            Hashes++;
            return pid;
        }
    }

    [Fact]
    public void Matching_stays_per_target_with_a_million_registrations()
    {
        var comparer = new CountingComparer();
        var table = new RegistrationTable(targetComparer: comparer);
        var file = new DeviceFile(1);
        for (int pid = 1; pid <= 1_000_000; pid++)
            table.Add(new Registration(pid, pid, 0, file), KmonitorAbi.KMONITOR_PROCESS_EXIT, 40, null!);
        comparer.Hashes = comparer.Comparisons = 0;
        var matches = new List<Match>();
        table.CollectMatches(777_777, KmonitorAbi.KMONITOR_PROCESS_EXIT, RegistrationTable.Now, matches);
        Assert.Equal(777_777, Assert.Single(matches).Registration.Target);
        Assert.Equal(1_000_000, table.Count);
        // One hash of the pid, and the few comparisons of one hash chain: nothing grows with the table.
        Assert.Equal(1, comparer.Hashes);
        Assert.InRange(comparer.Comparisons, 1, 4);
    }

    [Fact]
    public void Events_from_before_a_registration_do_not_match_it_and_do_not_end_it()
    {
        var table = new RegistrationTable();
        ulong before = (ulong)RegistrationTable.MonotonicNowNs();
        var registration = new Registration(8, 8, 0, new DeviceFile(1));
        table.Add(registration, KmonitorAbi.KMONITOR_PROCESS_EXIT | KmonitorAbi.KMONITOR_PROCESS_EXEC, 40, null!);
        var matches = new List<Match>();
        table.CollectMatches(8, KmonitorAbi.KMONITOR_PROCESS_EXEC, before, matches);
        Assert.Empty(matches);
        table.TakeTarget(8, before, matches); // a stale EXIT of an earlier task with pid 8
        Assert.Empty(matches);
        Assert.True(table.HasTarget(8));
        table.TakeTarget(8, RegistrationTable.Now, matches);
        Assert.Single(matches);
    }

    [Fact]
    public void Bits_added_by_a_later_register_apply_only_to_later_events()
    {
        var table = new RegistrationTable();
        var registration = new Registration(8, 8, 0, new DeviceFile(1));
        table.Add(registration, KmonitorAbi.KMONITOR_PROCESS_EXIT, 40, null!);
        ulong between = (ulong)RegistrationTable.MonotonicNowNs();
        table.Update(registration, KmonitorAbi.KMONITOR_PROCESS_EXIT | KmonitorAbi.KMONITOR_PROCESS_EXEC, 41, null!);
        Assert.Equal(KmonitorAbi.KMONITOR_PROCESS_EXIT, registration.MaskAt(between));
        Assert.Equal(KmonitorAbi.KMONITOR_PROCESS_EXIT | KmonitorAbi.KMONITOR_PROCESS_EXEC, registration.MaskAt(RegistrationTable.Now));
    }

    [Fact]
    public void A_uid_change_updates_the_uid_reported_for_the_target()
    {
        var table = new RegistrationTable();
        var registration = new Registration(8, 8, 0, new DeviceFile(1));
        table.Add(registration, KmonitorAbi.KMONITOR_PROCESS_EXIT, 40, null!);
        table.UpdateUid(8, 65534, RegistrationTable.Now);
        Assert.Equal(65534u, registration.TargetUid);
    }

    [Fact]
    public void The_count_stays_exact_when_many_threads_add_and_remove_at_once()
    {
        var table = new RegistrationTable();
        var file = new DeviceFile(1);
        Parallel.For(0, 4, worker =>
        {
            for (int round = 0; round < 20_000; round++)
            {
                var registration = new Registration(worker * 1_000_000 + round, 1, 0, file);
                table.Add(registration, KmonitorAbi.KMONITOR_PROCESS_EXIT, 40, null!);
                if (round % 2 == 0)
                    table.Remove(registration);
            }
        });
        Assert.Equal(4 * 10_000, table.Count);
    }
}
