using Kmonitor.Client;

namespace Kmonitor.Command.Cli;

/// <summary>How every command fails: one line on stderr, prefixed with the program's name, and exit 1.</summary>
public static class Failure
{
    public const int ExitCode = 1;

    /// <summary>Bad command line, as kmonitord uses it: a script can tell it from a refusal.</summary>
    public const int UsageExitCode = 2;

    public static int Report(string message)
    {
        Console.Out.Flush(); // what was printed so far comes before the error in a shared terminal
        Console.Error.WriteLine($"kmonitor: {message}");
        return ExitCode;
    }

    /// <summary>The library's messages already say what was refused and what to do.</summary>
    public static int Report(KmonitorException e) => Report(e.Message);

    public static int Usage(string message)
    {
        Console.Error.WriteLine($"kmonitor: {message}");
        Console.Error.WriteLine("Try 'kmonitor --help' for more information.");
        return UsageExitCode;
    }
}
