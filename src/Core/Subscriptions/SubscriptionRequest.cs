using System.Text;
using System.Text.RegularExpressions;
using Kmonitor.Abi;
using Kmonitor.Interop;

namespace Kmonitor.Subscriptions;

/// <summary>What a valid SUBSCRIBE asks for, decoded once.</summary>
/// <param name="Scope">KMONITOR_SCOPE_*.</param>
/// <param name="Events">The event bits (without EXISTING).</param>
/// <param name="Existing">Whether the matches alive at SUBSCRIBE are reported first.</param>
/// <param name="Root">TREE: the root pid as the caller names it.</param>
/// <param name="Signal">0 for records on the file, else the queued signal.</param>
/// <param name="Name">NAME: the comm to equal.</param>
/// <param name="Pattern">REGEX: the compiled expression.</param>
/// <param name="MatchCommandLine">REGEX: match argv joined by spaces instead of comm.</param>
/// <param name="PatternText">REGEX: the expression as written (POSIX ERE), which a handover carries to be compiled again.</param>
public sealed record SubscriptionSpec(uint Scope, int Events, bool Existing, int Root, int Signal, string? Name, Regex? Pattern, bool MatchCommandLine,
    string? PatternText = null)
{
    /// <summary>Whether a process of this name and command line matches (NAME and REGEX; others say true).</summary>
    public bool MatchesName(string comm, Func<string> commandLine) => Scope switch
    {
        SubscriptionAbi.KMONITOR_SCOPE_NAME => comm == Name,
        SubscriptionAbi.KMONITOR_SCOPE_REGEX => Pattern!.IsMatch(MatchCommandLine ? commandLine() : comm),
        _ => true,
    };
}

/// <summary>
/// The checks of SUBSCRIBE's argument that need nothing but the argument (issue #13's Errors):
/// each failure is EINVAL. Whether a TREE root runs, and whether the caller may watch it, is the
/// registrar's to decide.
/// </summary>
public static class SubscriptionRequest
{
    /// <summary>The longest comm the kernel keeps (TASK_COMM_LEN less its NUL).</summary>
    public const int MaxNameBytes = 15;

    /// <summary>Returns 0 and the decoded request, or EINVAL with <paramref name="why"/> saying which rule it broke.</summary>
    public static int Validate(in KmonitorSubscription request, out SubscriptionSpec? spec, out string? why)
    {
        spec = null;
        why = Check(request);
        if (why is not null)
            return Errno.EINVAL;
        string? name = null, text = null;
        Regex? pattern = null;
        if (request.scope is SubscriptionAbi.KMONITOR_SCOPE_NAME or SubscriptionAbi.KMONITOR_SCOPE_REGEX)
        {
            if (request.Pattern is not string given)
            {
                why = "the pattern has no NUL in its 232 bytes";
                return Errno.EINVAL;
            }
            text = given;
            if (request.scope == SubscriptionAbi.KMONITOR_SCOPE_NAME)
            {
                int bytes = Encoding.UTF8.GetByteCount(text);
                if (bytes == 0 || bytes > MaxNameBytes)
                {
                    why = $"a NAME must be 1 to {MaxNameBytes} bytes, as comm is; '{text}' is {bytes}";
                    return Errno.EINVAL;
                }
                name = text;
            }
            else
            {
                try
                {
                    pattern = PosixExtendedRegex.Compile(text);
                }
                catch (ArgumentException e)
                {
                    why = e.Message;
                    return Errno.EINVAL;
                }
            }
        }
        bool existing = (request.type & SubscriptionAbi.KMONITOR_PROCESS_EXISTING) != 0;
        spec = new SubscriptionSpec(request.scope, (int)request.type & KmonitorAbi.AllEvents, existing, request.pid, request.signal,
            name, pattern, (request.flags & SubscriptionAbi.KMONITOR_MATCH_CMDLINE) != 0, pattern is null ? null : text);
        return 0;
    }

    private static string? Check(in KmonitorSubscription request)
    {
        if (request.scope is < SubscriptionAbi.KMONITOR_SCOPE_TREE or > SubscriptionAbi.KMONITOR_SCOPE_ALL)
            return $"scope {request.scope} is not 1..4";
        if (request.type == 0 || (request.type & ~(uint)SubscriptionAbi.SubscriptionEvents) != 0)
            return $"type 0x{request.type:X} is 0 or has bits beyond 0x{SubscriptionAbi.SubscriptionEvents:X}";
        if (request.signal is < SubscriptionAbi.RecordsInsteadOfSignal or > KmonitorAbi.MaxSignal)
            return $"signal {request.signal} is not 0..{KmonitorAbi.MaxSignal}";
        if ((request.flags & ~SubscriptionAbi.KMONITOR_MATCH_CMDLINE) != 0)
            return $"flags 0x{request.flags:X} has bits beyond KMONITOR_MATCH_CMDLINE";
        if (request.flags != 0 && request.scope != SubscriptionAbi.KMONITOR_SCOPE_REGEX)
            return "KMONITOR_MATCH_CMDLINE is for KMONITOR_SCOPE_REGEX only";
        if (request.scope == SubscriptionAbi.KMONITOR_SCOPE_TREE && request.pid <= 0)
            return $"a TREE root must be a pid > 0, not {request.pid}";
        return null;
    }
}
