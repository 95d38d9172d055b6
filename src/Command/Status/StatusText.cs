using System.Text;
using System.Text.Json;

namespace Kmonitor.Command.Status;

/// <summary>
/// The daemon's JSON status report as a table a person can read. `kmonitor status` and
/// `kmonitord status` both print it: the daemon compiles this same file in (CuseDevice.csproj
/// links it), so the two cannot drift. Fields a daemon of another version may lack are optional.
/// </summary>
internal static class StatusText
{
    public static string Format(JsonElement status)
    {
        var text = new StringBuilder();
        text.AppendLine($"device         {status.GetProperty("device").GetString()} ({status.GetProperty("mode").GetString()} mode, daemon pid {status.GetProperty("pid").GetInt32()})");
        if (status.TryGetProperty("started", out var started))
            text.AppendLine($"started        {started.GetString()}, took over {status.GetProperty("taken_over_files").GetInt32()} open files, " +
                            $"{status.GetProperty("taken_over_registrations").GetInt32()} registrations and " +
                            $"{(status.TryGetProperty("taken_over_subscriptions", out var subs) ? subs.GetInt32() : 0)} subscriptions from the previous instance");
        text.AppendLine($"registrations  {status.GetProperty("registrations").GetInt32()}");
        if (status.TryGetProperty("subscriptions", out var subscriptions))
            text.AppendLine($"subscriptions  {subscriptions.GetInt32()}");
        text.AppendLine($"open files     {status.GetProperty("open_files").GetInt32()}");
        text.AppendLine($"pidfds         {status.GetProperty("watched_processes").GetInt32()} target processes, {status.GetProperty("watched_monitors").GetInt32()} monitors");
        string live = status.TryGetProperty("live_heap_bytes", out var heap) ? $", {heap.GetInt64() >> 10} KiB live managed heap" : "";
        text.AppendLine($"memory         {status.GetProperty("rss_bytes").GetInt64() >> 10} KiB resident{live}, {status.GetProperty("open_descriptors").GetInt32()} open descriptors");
        text.AppendLine();
        text.AppendLine("counter                  value");
        foreach (var counter in status.GetProperty("counters").EnumerateObject())
            text.AppendLine($"{counter.Name,-24} {counter.Value.GetInt64()}");
        text.AppendLine();
        text.AppendLine("monitor pid  file  registrations  dropped (queue full)");
        foreach (var monitor in status.GetProperty("monitors").EnumerateArray())
            text.AppendLine($"{monitor.GetProperty("pid").GetInt32(),11}  {monitor.GetProperty("file").GetUInt64(),4}  {monitor.GetProperty("registrations").GetInt32(),13}  {monitor.GetProperty("dropped_eagain").GetInt64(),20}");
        return text.ToString();
    }
}
