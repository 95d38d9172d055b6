namespace Kmonitor.Diagnostics;

public enum LogLevel { Debug = 0, Info = 1, Warning = 2, Error = 3 }

/// <summary>
/// One line per thing worth saying, on stderr: "kmonitord: LEVEL: message". Lines are written whole
/// (one Write call), so lines from different threads never interleave.
/// </summary>
public static class Log
{
    public static LogLevel Level { get; set; } = LogLevel.Info;

    public static TextWriter Output { get; set; } = Console.Error;

    /// <summary>
    /// Under systemd (stderr connected to the journal, $JOURNAL_STREAM set) lines carry a syslog
    /// priority prefix such as "&lt;4&gt;" instead of the name and level, which the journal shows itself.
    /// </summary>
    public static bool JournalFormat { get; set; } = Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 };

    public static void Debug(string message) => Write(LogLevel.Debug, message);
    public static void Info(string message) => Write(LogLevel.Info, message);
    public static void Warning(string message) => Write(LogLevel.Warning, message);
    public static void Error(string message) => Write(LogLevel.Error, message);

    public static bool IsEnabled(LogLevel level) => level >= Level;

    private static void Write(LogLevel level, string message)
    {
        if (level < Level)
            return;
        string name = level switch
        {
            LogLevel.Debug => "debug",
            LogLevel.Info => "info",
            LogLevel.Warning => "warning",
            _ => "error",
        };
        var writer = Output;
        string line = JournalFormat
            ? $"<{level switch { LogLevel.Debug => 7, LogLevel.Info => 6, LogLevel.Warning => 4, _ => 3 }}>{message}\n"
            : $"kmonitord: {name}: {message}\n";
        lock (writer)
        {
            writer.Write(line);
            writer.Flush();
        }
    }
}

/// <summary>Lets a repeated problem be logged once per interval instead of once per occurrence.</summary>
public sealed class RateLimiter(TimeSpan interval, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly long _origin = (time ?? TimeProvider.System).GetTimestamp();
    private long _nextAllowedTicks;

    /// <summary>True when a line may be written now; the caller counts the ones suppressed.</summary>
    public bool TryAcquire()
    {
        long now = _time.GetElapsedTime(_origin).Ticks;
        long next = Interlocked.Read(ref _nextAllowedTicks);
        return now >= next && Interlocked.CompareExchange(ref _nextAllowedTicks, now + interval.Ticks, next) == next;
    }
}
