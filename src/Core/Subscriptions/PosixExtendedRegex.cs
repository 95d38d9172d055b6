using System.Text;
using System.Text.RegularExpressions;

namespace Kmonitor.Subscriptions;

/// <summary>
/// POSIX extended regular expressions (regcomp with REG_EXTENDED, as C programmers know them),
/// translated to .NET's non-backtracking engine, so matching takes time linear in the name and no
/// pattern can stall the dispatcher. Only whether a name matches is asked, so POSIX's
/// leftmost-longest rule, which only decides which match is reported, makes no difference.
/// Translated: bracket expressions (a backslash is literal inside; [:class:] in the C locale;
/// [=c=] and [.c.] of one character), `$` only at the very end, an unmatched `)` as itself, `.` matching every character,
/// `{,n}`, and glibc's \w \W \s \S \b \B; any other escaped character stands for itself.
/// </summary>
public static class PosixExtendedRegex
{
    /// <summary>Compiles <paramref name="pattern"/>; throws <see cref="ArgumentException"/> saying why it does not compile.</summary>
    public static Regex Compile(string pattern)
    {
        string translated = Translate(pattern);
        try
        {
            return new Regex(translated, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant | RegexOptions.Singleline);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new ArgumentException($"'{pattern}' is not a POSIX extended regular expression: {e.Message}", e);
        }
    }

    /// <summary>The .NET pattern that means what <paramref name="pattern"/> means to regcomp(REG_EXTENDED).</summary>
    public static string Translate(string pattern)
    {
        var output = new StringBuilder(pattern.Length + 8);
        int openGroups = 0;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            switch (c)
            {
                case '\\':
                    if (++i == pattern.Length)
                        throw new ArgumentException($"'{pattern}' ends with a lone backslash");
                    output.Append(pattern[i] switch
                    {
                        'w' or 'W' or 's' or 'S' or 'b' or 'B' => "\\" + pattern[i],
                        _ => Regex.Escape(pattern[i].ToString()),
                    });
                    break;
                case '[':
                    i = TranslateBracket(pattern, i, output);
                    break;
                case '$':
                    output.Append("\\z");
                    break;
                case '{':
                    i = TranslateInterval(pattern, i, output);
                    break;
                case '(':
                    openGroups++;
                    output.Append(c);
                    break;
                case ')' when openGroups == 0:
                    output.Append("\\)"); // glibc takes an unmatched ')' as itself
                    break;
                case ')':
                    openGroups--;
                    output.Append(c);
                    break;
                case '.' or '^' or '|' or '*' or '+' or '?':
                    output.Append(c);
                    break;
                default:
                    output.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        return output.ToString();
    }

    /// <summary>{m}, {m,}, {m,n} and glibc's {,n}; returns the index of the closing brace.</summary>
    private static int TranslateInterval(string pattern, int open, StringBuilder output)
    {
        int close = pattern.IndexOf('}', open);
        if (close < 0)
            throw new ArgumentException($"'{pattern}' has an unclosed interval at offset {open}");
        string body = pattern[(open + 1)..close];
        var match = Regex.Match(body, @"^([0-9]*)(,([0-9]*))?$");
        if (!match.Success || (match.Groups[1].Length == 0 && !match.Groups[2].Success))
            throw new ArgumentException($"'{pattern}' has an invalid interval {{{body}}}");
        string low = match.Groups[1].Length == 0 ? "0" : match.Groups[1].Value;
        output.Append('{').Append(low);
        if (match.Groups[2].Success)
            output.Append(',').Append(match.Groups[3].Value);
        output.Append('}');
        return close;
    }

    /// <summary>A bracket expression starting at <paramref name="open"/>; returns the index of its closing ']'.</summary>
    private static int TranslateBracket(string pattern, int open, StringBuilder output)
    {
        int i = open + 1;
        output.Append('[');
        if (i < pattern.Length && pattern[i] == '^')
        {
            output.Append('^');
            i++;
        }
        bool first = true;
        for (; i < pattern.Length; i++, first = false)
        {
            char c = pattern[i];
            if (c == ']' && !first)
            {
                output.Append(']');
                return i;
            }
            if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] is ':' or '=' or '.')
            {
                char kind = pattern[i + 1];
                int end = pattern.IndexOf(kind + "]", i + 2, StringComparison.Ordinal);
                if (end < 0)
                    throw new ArgumentException($"'{pattern}' has an unclosed [{kind} at offset {i}");
                string name = pattern[(i + 2)..end];
                output.Append(kind == ':' ? CharacterClass(pattern, name) : SingleCharacter(pattern, name));
                i = end + 1;
                continue;
            }
            if (c == '-' && !first && i + 1 < pattern.Length && pattern[i + 1] != ']')
                output.Append('-'); // a range between its neighbours
            else
                output.Append(c is '\\' or '[' or ']' or '^' or '-' ? "\\" + c : c.ToString());
        }
        throw new ArgumentException($"'{pattern}' has an unclosed bracket expression at offset {open}");
    }

    private static string SingleCharacter(string pattern, string name) =>
        name.Length == 1 ? (name is "\\" or "[" or "]" or "^" or "-" ? "\\" + name : name)
                         : throw new ArgumentException($"'{pattern}': only one-character collating elements are supported, not '{name}'");

    /// <summary>The classes of the C locale.</summary>
    private static string CharacterClass(string pattern, string name) => name switch
    {
        "alpha" => "a-zA-Z",
        "digit" => "0-9",
        "alnum" => "a-zA-Z0-9",
        "upper" => "A-Z",
        "lower" => "a-z",
        "xdigit" => "0-9A-Fa-f",
        "space" => " \\t\\n\\r\\f\\v",
        "blank" => " \\t",
        "punct" => "!-/:-@\\[-`{-~",
        "print" => " -~",
        "graph" => "!-~",
        "cntrl" => "\\x00-\\x1F\\x7F",
        _ => throw new ArgumentException($"'{pattern}' names an unknown character class [:{name}:]"),
    };
}
