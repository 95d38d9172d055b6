using System.Text.Json;

namespace Kmonitor.Daemon;

/// <summary>
/// The daemon's state as JSON: what the status socket sends, and what `kmonitord status` prints
/// (as JSON, or as the table of StatusText, shared with the kmonitor command).
/// </summary>
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
}

/// <summary>This instance: when it started, and what it took over from its predecessor through systemd's fd store.</summary>
public sealed record InstanceInfo(DateTimeOffset Started, int TakenOverFiles, int TakenOverRegistrations, int TakenOverSubscriptions = 0);
