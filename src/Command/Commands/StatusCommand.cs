using System.CommandLine;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Kmonitor.Command.Cli;
using Kmonitor.Command.Status;

namespace Kmonitor.Command.Commands;

/// <summary>`kmonitor status`: what `kmonitord status` prints, asked of the daemon serving the device.</summary>
public static class StatusCommand
{
    public static readonly string[] Examples =
    [
        "kmonitor status",
        "kmonitor status --json | jq .counters.events_lost",
    ];

    public static System.CommandLine.Command Create(Option<string?> device)
    {
        var json = new Option<bool>("--json") { Description = "The daemon's report as JSON" };
        var command = new System.CommandLine.Command("status", "Show the daemon's state: counters, open files, monitors (root only)") { json };
        command.SetAction(parse => Run(DeviceOption.Resolve(parse.GetValue(device)), parse.GetValue(json)));
        return command;
    }

    private static int Run(string devicePath, bool json)
    {
        string socketPath = StatusSocket.PathFor(StatusSocket.NameOf(devicePath));
        if (!File.Exists(socketPath))
            return Failure.Report($"no kmonitord serves {devicePath} (there is no {socketPath}): is kmonitord running?");
        byte[] report;
        try
        {
            report = StatusSocket.Query(socketPath);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AccessDenied)
        {
            return Failure.Report($"not permitted: the daemon's status ({socketPath}) is for root only");
        }
        catch (SocketException e)
        {
            return Failure.Report($"kmonitord does not answer on {socketPath} ({e.Message}): has it stopped?");
        }
        JsonElement status;
        try
        {
            status = JsonDocument.Parse(report).RootElement;
        }
        catch (JsonException)
        {
            return Failure.Report($"kmonitord sent no report on {socketPath} (it may be stopping)");
        }
        Console.Out.Write(json ? Encoding.UTF8.GetString(report) + "\n" : StatusText.Format(status));
        return 0;
    }
}
