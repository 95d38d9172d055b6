using System.Text;
using System.Text.Json;

namespace Kmonitor.Daemon;

/// <summary>The daemon's state as JSON: what the status socket sends and `kmonitord status` prints.</summary>
public static class StatusReport
{
    public static byte[] Build(string mode, string device, KmonitorService service)
    {
        var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("pid", Environment.ProcessId);
            json.WriteString("mode", mode);
            json.WriteString("device", device);
            json.WriteNumber("registrations", service.Table.Count);
            json.WriteNumber("open_files", service.OpenFileCount);
            json.WriteStartObject("counters");
            foreach (var (name, value) in service.Counters.Snapshot())
                json.WriteNumber(name, value);
            json.WriteEndObject();
            json.WriteStartArray("monitors");
            foreach (var monitor in service.Monitors())
            {
                json.WriteStartObject();
                json.WriteNumber("pid", monitor.Pid);
                json.WriteNumber("file", monitor.File);
                json.WriteNumber("registrations", monitor.Registrations);
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
        text.AppendLine($"registrations  {status.GetProperty("registrations").GetInt32()}");
        text.AppendLine($"open files     {status.GetProperty("open_files").GetInt32()}");
        text.AppendLine();
        text.AppendLine("counter                  value");
        foreach (var counter in status.GetProperty("counters").EnumerateObject())
            text.AppendLine($"{counter.Name,-24} {counter.Value.GetInt64()}");
        text.AppendLine();
        text.AppendLine("monitor pid  file  registrations");
        foreach (var monitor in status.GetProperty("monitors").EnumerateArray())
            text.AppendLine($"{monitor.GetProperty("pid").GetInt32(),11}  {monitor.GetProperty("file").GetUInt64(),4}  {monitor.GetProperty("registrations").GetInt32(),13}");
        return text.ToString();
    }
}
