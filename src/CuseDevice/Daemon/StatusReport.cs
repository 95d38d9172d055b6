using System.Text;
using System.Text.Json;

namespace Kmonitor.Daemon;

/// <summary>The daemon's state as JSON: what the status socket sends and `kmonitord status` prints.</summary>
public static class StatusReport
{
    /// <param name="liveHeap">Measure the live managed heap: costs a full collection, so only on request.</param>
    /// <param name="instance">When this instance started, and what it took over from the previous one.</param>
    public static byte[] Build(string mode, string device, ServiceStatus service, bool liveHeap = false, InstanceInfo? instance = null)
    {
        var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("pid", Environment.ProcessId);
            json.WriteString("mode", mode);
            json.WriteString("device", device);
            if (instance is not null)
            {
                json.WriteString("started", instance.Started.ToString("yyyy-MM-ddTHH:mm:ssZ"));
                json.WriteNumber("taken_over_files", instance.TakenOverFiles);
                json.WriteNumber("taken_over_registrations", instance.TakenOverRegistrations);
                json.WriteNumber("taken_over_subscriptions", instance.TakenOverSubscriptions);
            }
            json.WriteNumber("registrations", service.Registrations);
            json.WriteNumber("subscriptions", service.Subscriptions);
            json.WriteNumber("open_files", service.OpenFiles);
            json.WriteNumber("watched_processes", service.WatchedProcesses);
            json.WriteNumber("watched_monitors", service.WatchedMonitors);
            // After a full collection, so it counts what is still referenced: the figure that shows a leak.
            if (liveHeap)
                json.WriteNumber("live_heap_bytes", GC.GetTotalMemory(forceFullCollection: true));
            json.WriteNumber("rss_bytes", Environment.WorkingSet);
            json.WriteNumber("open_descriptors", Directory.GetFiles("/proc/self/fd").Length);
            json.WriteStartObject("counters");
            foreach (var (name, value) in service.Counters)
                json.WriteNumber(name, value);
            json.WriteEndObject();
            json.WriteStartArray("monitors");
            foreach (var monitor in service.Monitors)
            {
                json.WriteStartObject();
                json.WriteNumber("pid", monitor.Pid);
                json.WriteNumber("file", monitor.File);
                json.WriteNumber("registrations", monitor.Registrations);
                json.WriteNumber("dropped_eagain", monitor.DroppedQueueFull);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>The same report as a table a person can read.</summary>
    public static string Format(JsonElement status)
    {
        var text = new StringBuilder();
        text.AppendLine($"device         {status.GetProperty("device").GetString()} ({status.GetProperty("mode").GetString()} mode, daemon pid {status.GetProperty("pid").GetInt32()})");
        if (status.TryGetProperty("started", out var started))
            text.AppendLine($"started        {started.GetString()}, took over {status.GetProperty("taken_over_files").GetInt32()} open files, " +
                            $"{status.GetProperty("taken_over_registrations").GetInt32()} registrations and " +
                            $"{status.GetProperty("taken_over_subscriptions").GetInt32()} subscriptions from the previous instance");
        text.AppendLine($"registrations  {status.GetProperty("registrations").GetInt32()}");
        text.AppendLine($"subscriptions  {status.GetProperty("subscriptions").GetInt32()}");
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

/// <summary>This instance: when it started, and what it took over from its predecessor through systemd's fd store.</summary>
public sealed record InstanceInfo(DateTimeOffset Started, int TakenOverFiles, int TakenOverRegistrations, int TakenOverSubscriptions = 0);
