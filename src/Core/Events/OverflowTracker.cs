using Kmonitor.Diagnostics;

namespace Kmonitor.Events;

/// <summary>
/// Counts what the listener loses, and groups it into episodes: a burst of ENOBUFS (the kernel
/// dropped events because the socket buffer was full) or ring-full drops is logged once, with how
/// many events were lost, and ends with a request for a resync.
/// </summary>
/// <remarks>
/// Lost events are counted from the connector's per-CPU sequence numbers (cn_msg.seq, one counter
/// per CPU for every event sent to any listener). Without the kernel's event filter every gap is a
/// loss. With it, gaps also hold the event types filtered out for this socket (COMM, GID, SID, ...),
/// so only the gaps seen during an overflow episode are counted: an upper bound that those rare
/// types barely inflate. (ENOBUFS is reported before the datagrams still queued, which follow on
/// without a gap; the gap comes after them, so an episode's gaps are counted until it ends.)
/// </remarks>
public sealed class OverflowTracker(Counters counters, bool eventFilter, Action requestResync, TimeProvider? time = null)
{
    private const int MaxCpus = 8192;

    /// <summary>How long an episode must be quiet (no overflow) to end.</summary>
    public static readonly TimeSpan QuietToEndEpisode = TimeSpan.FromMilliseconds(200);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    private readonly uint[] _lastSequence = new uint[MaxCpus];
    private readonly bool[] _seen = new bool[MaxCpus];
    private bool _inEpisode;
    private long _episodeStart, _lastOverflow; // TimeProvider timestamps
    private long _episodeLost, _episodeNoBuffers, _episodeRingFull;

    /// <summary>Called for every event received, in order.</summary>
    public void Observe(in ProcEvent ev)
    {
        uint cpu = ev.Cpu;
        if (cpu >= MaxCpus || ev.What == ProcEventWhat.PROC_EVENT_NONE)
            return;
        if (_seen[cpu])
        {
            uint gap = unchecked(ev.Sequence - _lastSequence[cpu] - 1);
            if (gap != 0 && gap < 1u << 30 && (!eventFilter || _inEpisode))
            {
                Interlocked.Add(ref counters.EventsLost, gap);
                _episodeLost += gap;
            }
        }
        _seen[cpu] = true;
        _lastSequence[cpu] = ev.Sequence;
    }

    /// <summary>recv answered ENOBUFS: events were dropped since the last datagram.</summary>
    public void NoBuffers()
    {
        Interlocked.Increment(ref counters.DroppedNoBuffers);
        _episodeNoBuffers++;
        Overflowed();
    }

    /// <summary>The ring was full: this event is lost.</summary>
    public void RingFull()
    {
        Interlocked.Increment(ref counters.DroppedRingFull);
        Interlocked.Increment(ref counters.EventsLost);
        _episodeRingFull++;
        _episodeLost++;
        Overflowed();
    }

    private void Overflowed()
    {
        long now = _time.GetTimestamp();
        _lastOverflow = now;
        if (_inEpisode)
            return;
        _inEpisode = true;
        _episodeStart = now;
        Interlocked.Increment(ref counters.OverflowEpisodes);
    }

    /// <summary>Called often (after each datagram, and on receive timeouts): ends an episode once it has been quiet.</summary>
    public void Tick()
    {
        if (!_inEpisode || _time.GetElapsedTime(_lastOverflow) < QuietToEndEpisode)
            return;
        _inEpisode = false;
        string estimate = eventFilter ? "at most " : "";
        Log.Warning($"overflow: {estimate}{_episodeLost} process events lost in {(long)_time.GetElapsedTime(_episodeStart, _lastOverflow).TotalMilliseconds} ms " +
                    $"({_episodeNoBuffers} ENOBUFS from the netlink socket, {_episodeRingFull} dropped at the full ring); " +
                    "exits are still reported (pidfds), FORK, EXEC and thread events in that window are not; resynchronising");
        _episodeLost = _episodeNoBuffers = _episodeRingFull = 0;
        requestResync();
    }
}
