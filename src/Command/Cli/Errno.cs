namespace Kmonitor.Command.Cli;

/// <summary>The errno values the command tells apart in <c>KmonitorException.Errno</c> (Linux numbers).</summary>
public static class Errno
{
    public const int ESRCH = 3;
}
