using Kmonitor.Diagnostics;
using Kmonitor.Events;
using Microsoft.Extensions.Time.Testing;

namespace Kmonitor.Tests.Unit;

public class OverflowTrackerTests
{
    private readonly FakeTimeProvider _time = new();

    private static ProcEvent Event(uint cpu, uint sequence) =>
        new(ProcEventWhat.PROC_EVENT_EXEC, cpu, sequence, 0, 1, 1, 0, 0, 0);

    [Fact]
    public void Without_the_event_filter_every_sequence_gap_is_a_loss()
    {
        var counters = new Counters();
        var tracker = new OverflowTracker(counters, eventFilter: false, requestResync: () => { });
        tracker.Observe(Event(0, 10));
        tracker.Observe(Event(1, 500));
        tracker.Observe(Event(0, 11));
        tracker.Observe(Event(0, 15));   // 12, 13, 14 lost on CPU 0
        tracker.Observe(Event(1, 502));  // 501 lost on CPU 1
        Assert.Equal(4, counters.EventsLost);
    }

    [Fact]
    public void With_the_filter_only_gaps_during_an_overflow_episode_count()
    {
        var counters = new Counters();
        var tracker = new OverflowTracker(counters, eventFilter: true, requestResync: () => { }, _time);
        tracker.Observe(Event(0, 10));
        tracker.Observe(Event(0, 13));   // filtered-out types (COMM, GID, ...): not a loss
        Assert.Equal(0, counters.EventsLost);
        tracker.NoBuffers();             // reported before the datagrams still queued...
        tracker.Observe(Event(0, 14));   // ...which follow on without a gap
        tracker.Observe(Event(0, 20));   // 15..19 dropped by the overflow
        Assert.Equal(5, counters.EventsLost);
        Assert.Equal(1, counters.DroppedNoBuffers);
        WaitUntilQuiet();
        tracker.Tick();                  // the episode ends
        tracker.Observe(Event(0, 25));   // back to normal: filtered types again
        Assert.Equal(5, counters.EventsLost);
    }

    /// <summary>An episode ends after 200 ms without overflow, by the tracker's clock: moved on by hand.</summary>
    private void WaitUntilQuiet() => _time.Advance(OverflowTracker.QuietToEndEpisode);

    [Fact]
    public void A_ring_full_drop_is_one_lost_event_and_a_sequence_wrap_is_not_a_gap()
    {
        var counters = new Counters();
        var tracker = new OverflowTracker(counters, eventFilter: false, requestResync: () => { });
        tracker.Observe(Event(2, uint.MaxValue));
        tracker.Observe(Event(2, 0));
        tracker.RingFull();
        Assert.Equal((1L, 1L), (counters.EventsLost, counters.DroppedRingFull));
    }

    [Fact]
    public void An_episode_is_counted_once_and_asks_for_a_resync_when_it_has_been_quiet()
    {
        var counters = new Counters();
        int resyncs = 0;
        var tracker = new OverflowTracker(counters, eventFilter: false, requestResync: () => resyncs++, _time);
        tracker.NoBuffers();
        tracker.NoBuffers();
        tracker.RingFull();
        _time.Advance(OverflowTracker.QuietToEndEpisode - TimeSpan.FromMilliseconds(1));
        tracker.Tick(); // not quiet yet
        Assert.Equal((1L, 0), (counters.OverflowEpisodes, resyncs));
        _time.Advance(TimeSpan.FromMilliseconds(1)); // quiet for exactly the 200 ms now
        tracker.Tick();
        Assert.Equal(1, resyncs);
    }
}
