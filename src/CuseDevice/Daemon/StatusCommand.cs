using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Kmonitor.Daemon;

/// <summary>`kmonitord status [--name NAME] [--json]`: asks a running daemon for its state.</summary>
public static class StatusCommand
{
    public static int Run(string[] args)
    {
        string name = "kmonitor";
        bool json = false, liveHeap = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--json": json = true; break;
                case "--live-heap": liveHeap = true; break;
                case "--name" when i + 1 < args.Length: name = args[++i]; break;
                default:
                    Console.Error.WriteLine($"kmonitord status: unknown option '{args[i]}'\nusage: kmonitord status [--name NAME] [--json] [--live-heap]");
                    return 2;
            }
        }
        string path = StatusSocket.PathFor(new DevicePaths(name));
        byte[] report;
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"kmonitord status: no kmonitord serves /dev/{name} (there is no {path})");
            return 1;
        }
        try
        {
            report = StatusSocket.Query(path, liveHeap);
        }
        catch (SocketException e)
        {
            Console.Error.WriteLine($"kmonitord status: no daemon answers on {path}: {e.Message}");
            return 1;
        }
        if (json)
            Console.WriteLine(Encoding.UTF8.GetString(report));
        else
            Console.Write(Kmonitor.Command.Status.StatusText.Format(JsonDocument.Parse(report).RootElement));
        return 0;
    }
}
