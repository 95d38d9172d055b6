using Kmonitor.Abi;

namespace Kmonitor.Subscriptions;

/// <summary>
/// The installed subscriptions, sorted the way events look them up: NAME by the name (one dictionary
/// look-up per exec, however many there are), REGEX in a list evaluated once per exec, ALL in a
/// list every event walks. Each list is an array replaced on change, so a sink that removes a
/// subscription while an event is delivered does not disturb the walk.
/// </summary>
internal sealed class SubscriptionIndex
{
    private readonly Dictionary<string, Subscription[]> _byName = new(StringComparer.Ordinal);

    public Subscription[] Installed { get; private set; } = [];

    public Subscription[] Regexes { get; private set; } = [];

    /// <summary>KMONITOR_SCOPE_ALL: every process is a member.</summary>
    public Subscription[] Everything { get; private set; } = [];

    public bool HasTrees { get; private set; }

    /// <summary>Whether any NAME or REGEX subscription exists: only then does an exec need the name read.</summary>
    public bool HasByName => _byName.Count != 0 || Regexes.Length != 0;

    /// <summary>Whether some REGEX matches the command line: only then is it read.</summary>
    public bool HasCommandLineRegexes { get; private set; }

    public Subscription[] Named(string comm) => _byName.TryGetValue(comm, out var list) ? list : [];

    public void Add(Subscription s)
    {
        Installed = [.. Installed, s];
        switch (s.Scope)
        {
            case SubscriptionAbi.KMONITOR_SCOPE_NAME:
                _byName[s.Spec.Name!] = [.. Named(s.Spec.Name!), s];
                break;
            case SubscriptionAbi.KMONITOR_SCOPE_REGEX:
                Regexes = [.. Regexes, s];
                break;
            case SubscriptionAbi.KMONITOR_SCOPE_ALL:
                Everything = [.. Everything, s];
                break;
        }
        Refresh();
    }

    public void Remove(Subscription s)
    {
        Installed = Without(Installed, s);
        switch (s.Scope)
        {
            case SubscriptionAbi.KMONITOR_SCOPE_NAME:
                var rest = Without(Named(s.Spec.Name!), s);
                if (rest.Length == 0)
                    _byName.Remove(s.Spec.Name!);
                else
                    _byName[s.Spec.Name!] = rest;
                break;
            case SubscriptionAbi.KMONITOR_SCOPE_REGEX:
                Regexes = Without(Regexes, s);
                break;
            case SubscriptionAbi.KMONITOR_SCOPE_ALL:
                Everything = Without(Everything, s);
                break;
        }
        Refresh();
    }

    private void Refresh()
    {
        HasTrees = Array.Exists(Installed, s => s.Scope == SubscriptionAbi.KMONITOR_SCOPE_TREE);
        HasCommandLineRegexes = Array.Exists(Regexes, s => s.Spec.MatchCommandLine);
    }

    private static Subscription[] Without(Subscription[] list, Subscription s) => Array.FindAll(list, m => m != s);
}
