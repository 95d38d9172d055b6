using System.CommandLine;
using Kmonitor.Client;
using Kmonitor.Command.Cli;
using Kmonitor.Command.Output;
using Kmonitor.Command.Interop;
using Kmonitor.Command.Run;

namespace Kmonitor.Command.Commands;

/// <summary>
/// `kmonitor run -- COMMAND ARGS...`: runs a command and prints its process tree as it unfolds
/// (extrace on one command), with no race: the TREE subscription exists before the command runs.
/// </summary>
public static class RunCommand
{
    public static readonly string[] Examples =
    [
        "kmonitor run -- sh -c 'sleep 0.1 & ls >/dev/null; wait'",
        "kmonitor run --json -- make -j8",
    ];

    /// <summary>What a tree is made of: its processes' lives (the exit carries the status; threads are not shown).</summary>
    private const ProcessEvents TreeEvents = ProcessEvents.ProcessFork | ProcessEvents.ProcessExec | ProcessEvents.ProcessExit;

    public static System.CommandLine.Command Create(Option<string?> device)
    {
        var json = new Option<bool>("--json") { Description = "One JSON object per line (fields in kmonitor(1))" };
        var commandLine = new Argument<string[]>("COMMAND")
        {
            Description = "The command and its arguments (after --, so that its options are its own)",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new System.CommandLine.Command("run", "Run a command and print its process tree as it unfolds; exit with its status")
        {
            json, commandLine,
        };
        command.SetAction((parse, _) => Run(parse.GetValue(device), parse.GetValue(commandLine)!, parse.GetValue(json)));
        return command;
    }

    private static async Task<int> Run(string? device, string[] commandLine, bool json)
    {
        using var termination = new Termination();
        KmonitorConnection connection;
        try
        {
            // Refusals (no device, not in the group) before anything is started.
            connection = KmonitorConnection.Open(device);
        }
        catch (KmonitorException e)
        {
            return Failure.Report(e);
        }
        await using var _ = connection;
        using var child = HeldChild.Start(commandLine);
        var tree = new TreePrinter(child.Pid, new Clock(), json);
        try
        {
            connection.SubscribeTree(child.Pid, TreeEvents);
        }
        catch (KmonitorException e)
        {
            child.Dispose(); // the wrapper ends without running the command
            child.Reap();
            return Failure.Report(e);
        }
        child.Release();
        ProcessEvent? rootExit = null;
        try
        {
            await foreach (var e in connection.ReadEventsAsync(termination.Token))
            {
                tree.Print(e);
                if (e.Kind == ProcessEventKind.ProcessExit && e.Pid == child.Pid)
                {
                    rootExit = e;
                    break; // what the command left running in the background is not waited for
                }
            }
        }
        catch (OperationCanceledException) when (termination.Requested)
        {
        }
        catch (KmonitorException e)
        {
            return Failure.Report(e);
        }
        if (tree.Lost > 0)
            Console.Error.WriteLine($"kmonitor: {tree.Lost} events of the tree lost in all");
        if (rootExit is ProcessEvent exit)
        {
            child.Reap();
            return EventText.ExitCodeOf(exit);
        }
        // Ctrl-C reached the command too (same process group); SIGTERM was for us alone: pass it on.
        if (termination.Signal == Spawn.SIGTERM)
            child.Signal(Spawn.SIGTERM);
        return termination.ExitCode;
    }
}
