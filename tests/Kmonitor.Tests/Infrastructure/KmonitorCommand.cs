using System.Text.Json;

namespace Kmonitor.Tests.Infrastructure;

/// <summary>
/// The kmonitor command run as a user runs it: its own process (`dotnet kmonitor.dll ARGS`), as
/// root or as another user through setpriv, its stdout read line by line as it prints.
/// </summary>
public sealed class KmonitorCommand : LineProcess
{
    /// <param name="runAs">A user to run as, with that user's groups (the kmonitor group for its member).</param>
    public KmonitorCommand(IEnumerable<string> args, string? runAs = null)
        : base("dotnet", [TestPaths.Command, .. args], runAs: runAs, withUserGroups: runAs is not null) { }

    /// <summary>Runs the command to its end: its exit code, stdout lines and stderr lines.</summary>
    public static (int Code, List<string> Out, IReadOnlyList<string> Err) Run(IEnumerable<string> args, string? runAs = null, int timeoutMs = 30_000)
    {
        using var command = new KmonitorCommand(args, runAs);
        int code = command.WaitForExit(timeoutMs);
        return (code, command.ReadToEnd(), command.ErrorLines);
    }

    /// <summary>The next line, which must be a JSON object.</summary>
    public JsonElement ReadJson(string what, int timeoutMs = DefaultTimeoutMs)
    {
        string line = ReadLine(what, timeoutMs);
        try
        {
            return JsonDocument.Parse(line).RootElement;
        }
        catch (JsonException e)
        {
            throw new FormatException($"not a JSON line: '{line}' ({e.Message})");
        }
    }

    /// <summary>Reads lines until one satisfies <paramref name="match"/>; the lines before it are returned too.</summary>
    public (string Line, List<string> Before) ReadUntil(Func<string, bool> match, string what, int timeoutMs = DefaultTimeoutMs)
    {
        var before = new List<string>();
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (true)
        {
            int left = (int)Math.Max(1, (deadline - DateTime.UtcNow).TotalMilliseconds);
            string line = ReadLine($"{what} (after {before.Count} other lines)", left);
            if (match(line))
                return (line, before);
            before.Add(line);
        }
    }
}
