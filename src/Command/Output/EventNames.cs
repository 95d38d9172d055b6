using Kmonitor.Client;

namespace Kmonitor.Command.Output;

/// <summary>
/// The words the command uses for event kinds, in its output and in `--events`: short for the
/// process events people ask for most (fork, exec, exit), hyphenated for the thread ones.
/// </summary>
public static class EventNames
{
    private static readonly (string Name, ProcessEvents Bits, ProcessEventKind Kind)[] Table =
    [
        ("fork", ProcessEvents.ProcessFork, ProcessEventKind.ProcessFork),
        ("exec", ProcessEvents.ProcessExec, ProcessEventKind.ProcessExec),
        ("exit", ProcessEvents.ProcessExit, ProcessEventKind.ProcessExit),
        ("abort", ProcessEvents.ProcessAbort, ProcessEventKind.ProcessAbort),
        ("thread-create", ProcessEvents.ThreadCreate, ProcessEventKind.ThreadCreate),
        ("thread-exit", ProcessEvents.ThreadExit, ProcessEventKind.ThreadExit),
        ("thread-abort", ProcessEvents.ThreadAbort, ProcessEventKind.ThreadAbort),
        ("existing", ProcessEvents.Existing, ProcessEventKind.Existing),
    ];

    /// <summary>What `--events` accepts, for help and completion.</summary>
    public static readonly string[] Accepted =
        [.. Table.Where(e => e.Bits != ProcessEvents.Existing).Select(e => e.Name), "thread", "all"];

    /// <summary>What `watch` reports when `--events` is not given: a process's life, without the threads.</summary>
    public const ProcessEvents Default = ProcessEvents.ProcessFork | ProcessEvents.ProcessExec | ProcessEvents.ProcessExit;

    public static string Of(ProcessEventKind kind) => kind == ProcessEventKind.Lost
        ? "lost"
        : Table.First(e => e.Kind == kind).Name;

    /// <summary>Parses "fork,exec,exit": null and an error message when a word is not known.</summary>
    public static ProcessEvents? Parse(string list, out string? error)
    {
        ProcessEvents events = 0;
        foreach (var raw in list.Split(',', StringSplitOptions.TrimEntries))
        {
            string word = raw.ToLowerInvariant();
            if (word == "all")
                events |= ProcessEvents.All;
            else if (word == "thread")
                events |= ProcessEvents.ThreadCreate | ProcessEvents.ThreadExit | ProcessEvents.ThreadAbort;
            else if (Table.FirstOrDefault(e => e.Name == word && e.Bits != ProcessEvents.Existing) is { Name: not null } entry)
                events |= entry.Bits;
            else
            {
                error = $"unknown event '{raw}' in --events (known: {string.Join(", ", Accepted)}; --existing asks for the running ones)";
                return null;
            }
        }
        error = null;
        return events;
    }
}
