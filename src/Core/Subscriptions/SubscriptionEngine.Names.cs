using Kmonitor.Abi;

namespace Kmonitor.Subscriptions;

public sealed partial class SubscriptionEngine
{
    /// <summary>
    /// Decides NAME and REGEX memberships again for an exec (or rename) stamped
    /// <paramref name="timestampNs"/>. Subscriptions made after it keep what their scan decided;
    /// TREE memberships never depend on the name. Each REGEX is evaluated once here, and NAME is one
    /// dictionary look-up, so the per-event walk stays the process's own short list.
    /// </summary>
    /// <param name="commOnly">A rename: command-line matches stay as they are.</param>
    /// <param name="nameKnown">False when the name could not be read: no name-based membership is kept.</param>
    private void Rematch(TrackedProcess p, ulong timestampNs, bool commOnly, bool nameKnown)
    {
        if (!_index.HasByName && p.Members.Length == 0)
            return;
        var next = _rematched;
        next.Clear();
        foreach (var s in p.Members)
        {
            if (!s.IsByName || s.StartNs > timestampNs || (commOnly && !s.MatchesComm))
                next.Add(s);
        }
        if (nameKnown)
        {
            foreach (var s in _index.Named(p.Comm))
            {
                if (s.StartNs <= timestampNs)
                    next.Add(s);
            }
            bool missCounted = false;
            string? commandLine = null;
            foreach (var s in _index.Regexes)
            {
                if (s.StartNs > timestampNs || (commOnly && !s.MatchesComm))
                    continue;
                string? text = p.Comm;
                if (s.Spec.MatchCommandLine)
                {
                    text = commandLine ??= proc.ReadCommandLine(p.Tgid) ?? "";
                    if (text.Length == 0)
                    {
                        // A zombie by now (its memory, and so its argv, is gone): the window the README states.
                        if (!missCounted)
                            Interlocked.Increment(ref counters.CommandLineMisses);
                        missCounted = true;
                        continue;
                    }
                }
                if (s.Spec.Pattern!.IsMatch(text))
                    next.Add(s);
            }
        }
        if (!p.Members.AsSpan().SequenceEqual(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(next)))
            p.Members = [.. next];
        next.Clear();
    }

    /// <summary>Whether a process alive at SUBSCRIBE matches a NAME, REGEX or ALL subscription.</summary>
    private bool Matches(Subscription s, int pid, string comm) => s.Scope switch
    {
        SubscriptionAbi.KMONITOR_SCOPE_NAME => comm == s.Spec.Name,
        SubscriptionAbi.KMONITOR_SCOPE_REGEX when s.Spec.MatchCommandLine =>
            proc.ReadCommandLine(pid) is { Length: > 0 } line && s.Spec.Pattern!.IsMatch(line),
        SubscriptionAbi.KMONITOR_SCOPE_REGEX => s.Spec.Pattern!.IsMatch(comm),
        _ => true,
    };
}
