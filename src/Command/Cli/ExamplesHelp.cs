using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Kmonitor.Command.Cli;

/// <summary>
/// `--help` as System.CommandLine writes it, followed by the examples of the command asked about:
/// the part of a help text people copy from.
/// </summary>
public sealed class ExamplesHelp(HelpAction inner, IReadOnlyDictionary<System.CommandLine.Command, string[]> examples)
    : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        int result = inner.Invoke(parseResult);
        if (examples.TryGetValue(parseResult.CommandResult.Command, out var lines) && lines.Length > 0)
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine("Examples:");
            foreach (var line in lines)
                output.WriteLine($"  {line}");
            output.WriteLine();
        }
        return result;
    }

    /// <summary>Replaces the root's help action (the help option is recursive, so it serves every command).</summary>
    public static void Install(RootCommand root, IReadOnlyDictionary<System.CommandLine.Command, string[]> examples)
    {
        foreach (var option in root.Options)
        {
            if (option is HelpOption help && help.Action is HelpAction action)
                help.Action = new ExamplesHelp(action, examples);
        }
    }
}
