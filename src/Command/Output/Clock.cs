using System.Diagnostics;

namespace Kmonitor.Command.Output;

/// <summary>
/// Records carry CLOCK_MONOTONIC nanoseconds (the connector's timestamp); people read wall-clock
/// time. The offset between the two is taken once at start, so every line of a run uses the same
/// one and the times of two lines subtract exactly (a clock step later does not reorder them).
/// </summary>
public sealed class Clock
{
    private readonly DateTimeOffset _wallAtStart;
    private readonly ulong _monotonicAtStart;

    public Clock()
    {
        _monotonicAtStart = NowNs();
        _wallAtStart = DateTimeOffset.UtcNow;
    }

    /// <summary>
    /// CLOCK_MONOTONIC now, in nanoseconds: on Linux the Stopwatch is that clock. Integer arithmetic,
    /// because a double loses nanoseconds after about 100 days of uptime.
    /// </summary>
    public static ulong NowNs()
    {
        long ticks = Stopwatch.GetTimestamp();
        return Stopwatch.Frequency == 1_000_000_000
            ? (ulong)ticks
            : (ulong)(Int128.CreateTruncating(ticks) * 1_000_000_000 / Stopwatch.Frequency);
    }

    public DateTimeOffset Wall(ulong monotonicNs) =>
        _wallAtStart.AddTicks(((long)monotonicNs - (long)_monotonicAtStart) / 100);
}
