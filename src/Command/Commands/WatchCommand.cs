using System.CommandLine;
using Kmonitor.Client;
using Kmonitor.Command.Cli;
using Kmonitor.Command.Output;

namespace Kmonitor.Command.Commands;

/// <summary>
/// `kmonitor watch`: one line (or JSON object) per event of a pid, a subtree, a name, a regular
/// expression or every process, as forkstat and extrace print them, with the name and exit status.
/// </summary>
public static class WatchCommand
{
    public static readonly string[] Examples =
    [
        "kmonitor watch                              # every process you may watch: fork, exec, exit",
        "kmonitor watch --name sleep --existing --json",
        "kmonitor watch --tree 1234 --events exec,exit",
        "kmonitor watch --regex '^(ba|da)?sh$' --events exec",
        "kmonitor watch --regex 'python.*manage.py' --cmdline",
        "kmonitor watch --pid 1234 --events all",
    ];

    public static System.CommandLine.Command Create(Option<string?> device)
    {
        var pid = new Option<int?>("--pid") { Description = "Events of this process (and its threads) only", HelpName = "PID" };
        var tree = new Option<int?>("--tree") { Description = "Events of this process and every process descended from it", HelpName = "PID" };
        var name = new Option<string?>("--name") { Description = "Events of every process of this name (its comm, at most 15 bytes)", HelpName = "NAME" };
        var regex = new Option<string?>("--regex") { Description = "Events of every process whose name matches this POSIX extended regular expression", HelpName = "RE" };
        var cmdline = new Option<bool>("--cmdline") { Description = "With --regex: match the command line (argv joined by spaces), like pgrep -f" };
        var all = new Option<bool>("--all") { Description = "Events of every process you may watch (the default)" };
        var events = new Option<ProcessEvents?>("--events")
        {
            Description = $"Which events, comma-separated: {string.Join(", ", EventNames.Accepted)} (default: fork,exec,exit)",
            HelpName = "LIST",
            CustomParser = result =>
            {
                var parsed = EventNames.Parse(string.Join(',', result.Tokens.Select(t => t.Value)), out var error);
                if (parsed is null)
                    result.AddError(error!);
                return parsed;
            },
        };
        events.CompletionSources.Add(EventNames.Accepted);
        var existing = new Option<bool>("--existing") { Description = "First report the matching processes already running (not with --pid)" };
        var json = new Option<bool>("--json") { Description = "One JSON object per line (fields in kmonitor(1))" };

        var command = new System.CommandLine.Command("watch", "Print process events as they happen")
        {
            pid, tree, name, regex, cmdline, all, events, existing, json,
        };
        command.Validators.Add(result =>
        {
            int scopes = new Option[] { pid, tree, name, regex, all }.Count(o => result.GetResult(o) is not null);
            if (scopes > 1)
                result.AddError("give at most one of --pid, --tree, --name, --regex and --all");
            if (result.GetResult(cmdline) is not null && result.GetResult(regex) is null)
                result.AddError("--cmdline goes with --regex");
            if (result.GetResult(existing) is not null && result.GetResult(pid) is not null)
                result.AddError("--existing cannot go with --pid (a registration has no running matches to report; use --tree)");
        });
        command.SetAction((parse, _) =>
        {
            var request = new WatchRequest(
                parse.GetValue(pid), parse.GetValue(tree), parse.GetValue(name), parse.GetValue(regex),
                parse.GetValue(cmdline), (parse.GetValue(events) ?? EventNames.Default) | (parse.GetValue(existing) ? ProcessEvents.Existing : 0));
            return Run(parse.GetValue(device), request, parse.GetValue(json));
        });
        return command;
    }

    private sealed record WatchRequest(int? Pid, int? Tree, string? Name, string? Regex, bool CommandLine, ProcessEvents Events)
    {
        public void Apply(KmonitorConnection connection)
        {
            if (Pid is int pid)
                connection.Register(pid, Events);
            else if (Tree is int root)
                connection.SubscribeTree(root, Events);
            else if (Name is not null)
                connection.SubscribeName(Name, Events);
            else if (Regex is not null)
                connection.SubscribeRegex(Regex, Events, CommandLine);
            else
                connection.SubscribeAll(Events);
        }
    }

    private static async Task<int> Run(string? device, WatchRequest request, bool json)
    {
        using var termination = new Termination();
        var clock = new Clock();
        long lost = 0;
        try
        {
            await using var connection = KmonitorConnection.Open(device);
            request.Apply(connection);
            await foreach (var e in connection.ReadEventsAsync(termination.Token))
            {
                if (e.Kind == ProcessEventKind.Lost)
                {
                    lost += e.LostCount;
                    Console.Out.Flush();
                    Console.Error.WriteLine($"kmonitor: warning: {e.LostCount} events lost here (the daemon's queue for this reader was full)");
                    if (!json)
                        continue;
                }
                Console.Out.WriteLine(json ? EventJson.Line(e, clock) : EventText.Line(e, clock));
            }
        }
        catch (OperationCanceledException) when (termination.Requested)
        {
            // ended by Ctrl-C: the summary below, then 130
        }
        catch (KmonitorException e)
        {
            Summary(lost);
            return Failure.Report(e);
        }
        Summary(lost);
        return termination.Requested ? termination.ExitCode : 0;
    }

    private static void Summary(long lost)
    {
        Console.Out.Flush();
        if (lost > 0)
            Console.Error.WriteLine($"kmonitor: {lost} events lost in all");
    }
}
