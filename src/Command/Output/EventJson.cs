using System.Text;
using System.Text.Json;
using Kmonitor.Client;

namespace Kmonitor.Command.Output;

/// <summary>
/// One JSON object per event, on one line, for scripts. The field names are part of the command's
/// interface (kmonitor(1) lists them): never rename one, only add.
/// </summary>
public static class EventJson
{
    private static readonly JsonWriterOptions Compact = new() { Indented = false };

    /// <param name="extra">More fields, written after the event's own (run's elapsed time, depth, duration).</param>
    public static string Line(in ProcessEvent e, Clock clock, Action<Utf8JsonWriter>? extra = null)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Compact))
        {
            json.WriteStartObject();
            json.WriteString("event", EventNames.Of(e.Kind));
            json.WriteNumber("seq", e.Sequence);
            json.WriteNumber("time_ns", e.TimeNs);
            json.WriteString("time", clock.Wall(e.TimeNs).UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ"));
            if (e.Kind == ProcessEventKind.Lost)
            {
                json.WriteNumber("lost", e.LostCount);
            }
            else
            {
                json.WriteNumber("pid", e.Pid);
                json.WriteNumber("tgid", e.Tgid);
                json.WriteNumber("ppid", e.Ppid);
                json.WriteNumber("uid", e.Uid);
                json.WriteString("name", e.Name);
                json.WriteNumber("watch", e.Watch);
                if (EventText.HasStatus(e.Kind))
                {
                    json.WriteNumber("wait_status", e.WaitStatus);
                    if (e.ExitCode is int code)
                        json.WriteNumber("exit_code", code);
                    else
                        json.WriteNull("exit_code");
                    if (e.TermSignal is int signal)
                        json.WriteNumber("signal", signal);
                    else
                        json.WriteNull("signal");
                    json.WriteBoolean("core_dumped", e.CoreDumped);
                    json.WriteString("status", e.DescribeStatus());
                }
            }
            extra?.Invoke(json);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
