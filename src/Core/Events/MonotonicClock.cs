namespace Kmonitor.Events;

/// <summary>
/// The clock of proc_event.timestamp_ns: CLOCK_MONOTONIC in nanoseconds, read through a
/// <see cref="TimeProvider"/>. The system's provider is that clock on Linux (Stopwatch's
/// timestamps are CLOCK_MONOTONIC nanoseconds), so its readings compare with the kernel's event
/// stamps as they are; a test's fake provider gives nanoseconds since the clock was made, plus
/// <see cref="FakeOrigin"/>, so a test can also stamp events from before the first reading.
/// </summary>
public sealed class MonotonicClock
{
    public static MonotonicClock System { get; } = new(TimeProvider.System);

    /// <summary>What a fake provider's clock reads when it is made: one hour.</summary>
    public const long FakeOrigin = 3_600_000_000_000;

    private const long NanosecondsPerSecond = 1_000_000_000;

    private readonly TimeProvider _time;
    private readonly bool _isKernelClock;
    private readonly long _origin;

    public MonotonicClock(TimeProvider time)
    {
        _time = time;
        _isKernelClock = time == TimeProvider.System && time.TimestampFrequency == NanosecondsPerSecond;
        if (time == TimeProvider.System && !_isKernelClock)
            throw new PlatformNotSupportedException("the system's timestamps are not CLOCK_MONOTONIC nanoseconds");
        _origin = time.GetTimestamp();
    }

    /// <summary>Now, in the clock of the kernel's event stamps.</summary>
    public long NowNs() => _isKernelClock
        ? _time.GetTimestamp()
        : FakeOrigin + _time.GetElapsedTime(_origin).Ticks * (NanosecondsPerSecond / TimeSpan.TicksPerSecond);
}
