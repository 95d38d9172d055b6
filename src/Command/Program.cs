using System.CommandLine;
using Kmonitor.Command.Cli;
using Kmonitor.Command.Commands;

namespace Kmonitor.Command;

/// <summary>`kmonitor`: watch process events, wait for processes, follow a command's tree, through /dev/kmonitor.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = Build();
        // No @response-files: `run -- cmd @x` and `--regex @x` mean what they say.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var configuration = new InvocationConfiguration
        {
            // Ctrl-C and SIGTERM are the commands' own (Termination): they decide the exit code.
            ProcessTerminationTimeout = null,
            // A broken stdout is caught below; anything else is a bug, whose trace is wanted.
            EnableDefaultExceptionHandler = false,
        };
        if (parse.Errors.Count > 0 && parse.Action is not Cli.ExamplesHelp)
        {
            foreach (var error in parse.Errors.Take(parse.Errors.Count - 1))
                Console.Error.WriteLine($"kmonitor: {error.Message}");
            return Failure.Usage(parse.Errors[^1].Message);
        }
        StandardOutput.Install();
        try
        {
            return parse.Invoke(configuration);
        }
        catch (Exception e) when (StandardOutput.IsBrokenPipe(e))
        {
            return StandardOutput.BrokenPipeExitCode;
        }
    }

    public static RootCommand Build()
    {
        var device = DeviceOption.Create();
        var watch = WatchCommand.Create(device);
        var wait = WaitCommand.Create(device);
        var run = RunCommand.Create(device);
        var status = StatusCommand.Create(device);
        var root = new RootCommand(
            "Watch process events, wait for processes and follow a command's process tree, through kmonitord's /dev/kmonitor.")
        {
            device, watch, wait, run, status,
        };
        ExamplesHelp.Install(root, new Dictionary<System.CommandLine.Command, string[]>
        {
            [root] =
            [
                "kmonitor watch --name sleep --existing --json",
                "kmonitor run -- sh -c 'sleep 0.1 & ls >/dev/null; wait'",
                "kmonitor wait --timeout 60 1234",
                "kmonitor status",
            ],
            [watch] = WatchCommand.Examples,
            [wait] = WaitCommand.Examples,
            [run] = RunCommand.Examples,
            [status] = StatusCommand.Examples,
        });
        return root;
    }
}
