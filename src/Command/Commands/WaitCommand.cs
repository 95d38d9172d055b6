using System.CommandLine;
using Kmonitor.Client;
using Kmonitor.Command.Cli;
using Kmonitor.Command.Output;

namespace Kmonitor.Command.Commands;

/// <summary>
/// `kmonitor wait PID...`: util-linux waitpid for processes that are not our children, telling how
/// each ended (which waitpid cannot) and exiting with the status of the last one.
/// </summary>
public static class WaitCommand
{
    /// <summary>timeout(1)'s code: a script tells "still running" from any status the process could have.</summary>
    public const int TimedOut = 124;

    public static readonly string[] Examples =
    [
        "kmonitor wait 1234                 # until 1234 ends; exits with its status",
        "kmonitor wait --timeout 30 1234 1235",
        "kmonitor wait --count 1 1234 1235  # until the first of them ends",
        "kmonitor wait --exited $(pgrep -d ' ' rsync)",
    ];

    public static System.CommandLine.Command Create(Option<string?> device)
    {
        var pids = new Argument<int[]>("PID") { Description = "The processes to wait for", Arity = ArgumentArity.OneOrMore };
        var timeout = new Option<double?>("--timeout") { Description = "Give up after this many seconds and exit 124", HelpName = "SECONDS" };
        var exited = new Option<bool>("--exited") { Description = "A pid that is not running counts as ended instead of an error" };
        var count = new Option<int?>("--count") { Description = "Return after this many of them have ended (default: all)", HelpName = "N" };
        var command = new System.CommandLine.Command("wait", "Wait for processes to end, and tell how each ended") { pids, timeout, exited, count };
        command.Validators.Add(result =>
        {
            int given = result.GetValue(pids)?.Length ?? 0;
            if (result.GetValue(count) is int n && (n < 1 || n > given))
                result.AddError($"--count must be between 1 and the number of pids ({given})");
            if (result.GetValue(timeout) is double seconds && !(seconds >= 0 && seconds <= int.MaxValue / 1000))
                result.AddError("--timeout must be a number of seconds, 0 or more");
            if (result.GetValue(pids)?.FirstOrDefault(p => p <= 0) is int bad and not 0)
                result.AddError($"'{bad}' is not a process id");
        });
        command.SetAction((parse, _) => Run(parse.GetValue(device), parse.GetValue(pids)!, parse.GetValue(timeout),
            parse.GetValue(exited), parse.GetValue(count)));
        return command;
    }

    private static async Task<int> Run(string? device, int[] pids, double? timeoutSeconds, bool notRunningCounts, int? count)
    {
        using var termination = new Termination();
        using var timeout = new CancellationTokenSource();
        using var either = CancellationTokenSource.CreateLinkedTokenSource(termination.Token, timeout.Token);
        int wanted = count ?? pids.Length;
        int ended = 0, lastCode = 0;
        var waiting = new List<int>();
        try
        {
            await using var connection = KmonitorConnection.Open(device);
            foreach (int pid in pids.Distinct())
            {
                try
                {
                    // The exit is reported even when the pid is a zombie already: nothing falls between.
                    connection.Register(pid, ProcessEvents.ProcessExit);
                    waiting.Add(pid);
                }
                catch (KmonitorException e) when (e.Errno == Errno.ESRCH && notRunningCounts)
                {
                    Console.Out.WriteLine($"{pid} was not running");
                    ended++;
                }
            }
            if (ended >= wanted)
                return 0;
            if (timeoutSeconds is double seconds)
                timeout.CancelAfter(TimeSpan.FromSeconds(seconds));
            await foreach (var e in connection.ReadEventsAsync(either.Token))
            {
                if (e.Kind == ProcessEventKind.Lost)
                {
                    // Exits are never dropped for long: the daemon tells, and the next read has room.
                    Console.Error.WriteLine($"kmonitor: warning: {e.LostCount} events lost here");
                    continue;
                }
                if (e.Kind != ProcessEventKind.ProcessExit || !waiting.Remove(e.Pid))
                    continue;
                Console.Out.WriteLine($"{e.Pid} {EventText.NameOf(e)} {e.DescribeStatus()}");
                lastCode = EventText.ExitCodeOf(e);
                if (++ended >= wanted)
                    return lastCode;
            }
        }
        catch (OperationCanceledException) when (either.IsCancellationRequested)
        {
        }
        catch (KmonitorException e)
        {
            return Failure.Report(e);
        }
        if (termination.Requested)
            return termination.ExitCode;
        if (timeout.IsCancellationRequested)
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"kmonitor: timed out after {timeoutSeconds} s; still running: {string.Join(' ', waiting)}");
            return TimedOut;
        }
        return lastCode;
    }
}
