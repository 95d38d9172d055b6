using System.Text.Json;
using Kmonitor.Client;
using Kmonitor.Command.Output;

namespace Kmonitor.Command.Run;

/// <summary>
/// `run`'s output: each event of the tree with the time since the command started, indented by
/// its depth below the command, and each exit with how long that process lived.
/// </summary>
internal sealed class TreePrinter(int root, Clock clock, bool json)
{
    private readonly ulong _startNs = Clock.NowNs();
    private readonly Dictionary<int, (int Depth, ulong BornNs)> _members = new() { [root] = (0, Clock.NowNs()) };
    private long _lost;

    public void Print(in ProcessEvent e)
    {
        if (e.Kind == ProcessEventKind.Lost)
        {
            _lost += e.LostCount;
            Console.Out.Flush();
            Console.Error.WriteLine($"kmonitor: warning: {e.LostCount} events of the tree lost here (the daemon's queue for this reader was full)");
            if (json)
                Console.Out.WriteLine(EventJson.Line(e, clock));
            return;
        }
        if (e.Kind == ProcessEventKind.ProcessFork)
            _members[e.Pid] = (Depth(e.Ppid) + 1, e.TimeNs);
        int depth = Depth(e.Pid);
        ulong? lived = null;
        if (e.Kind == ProcessEventKind.ProcessExit && _members.Remove(e.Pid, out var member))
            lived = e.TimeNs > member.BornNs ? e.TimeNs - member.BornNs : 0;
        ulong elapsed = e.TimeNs > _startNs ? e.TimeNs - _startNs : 0;
        Console.Out.WriteLine(json ? Json(e, elapsed, depth, lived) : Text(e, elapsed, depth, lived));
    }

    public long Lost => _lost;

    private int Depth(int pid) => _members.TryGetValue(pid, out var member) ? member.Depth : 1;

    private static string Text(in ProcessEvent e, ulong elapsed, int depth, ulong? lived)
    {
        string indent = new(' ', 2 * depth);
        string what = e.Kind switch
        {
            ProcessEventKind.ProcessFork => $"{EventText.NameOf(e)} (child of {e.Ppid})",
            ProcessEventKind.ProcessExit => $"{EventText.NameOf(e)} {e.DescribeStatus()}" + (lived is ulong ns ? $" after {EventText.Seconds(ns)}" : ""),
            _ => EventText.NameOf(e),
        };
        return $"{EventText.Seconds(elapsed),9} {e.Pid,7} {indent}{EventNames.Of(e.Kind)} {what}";
    }

    private string Json(in ProcessEvent e, ulong elapsed, int depth, ulong? lived) => EventJson.Line(e, clock, writer =>
    {
        writer.WriteNumber("elapsed_ns", elapsed);
        writer.WriteNumber("depth", depth);
        if (lived is ulong ns)
            writer.WriteNumber("duration_ns", ns);
    });
}
