using System.CommandLine;
using Kmonitor.Client;

namespace Kmonitor.Command.Cli;

/// <summary>`--device PATH`, on every command: which device to open (tests and second daemons use other names).</summary>
public static class DeviceOption
{
    public const string EnvironmentVariable = "KMONITOR_DEVICE";

    public static Option<string?> Create() => new("--device")
    {
        Description = $"The device to open (default: ${EnvironmentVariable}, else {KmonitorConnection.DefaultPath})",
        HelpName = "PATH",
        Recursive = true,
    };

    /// <summary>The path the library would open for this value, for the commands that need the name itself.</summary>
    public static string Resolve(string? option) =>
        option ?? (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment
            ? fromEnvironment
            : KmonitorConnection.DefaultPath);
}
