using System.Runtime.InteropServices;
using Kmonitor.Subscriptions;

namespace Kmonitor.Tests.Unit;

/// <summary>
/// The translation is checked against the C library itself: for each pattern and name, glibc's
/// regcomp(REG_EXTENDED) and regexec must agree with the compiled .NET expression, and a pattern
/// glibc refuses must be refused too.
/// </summary>
public partial class PosixExtendedRegexTests
{
    private const int REG_EXTENDED = 1;
    private const int REG_NOSUB = 8;

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int regcomp(byte* preg, string pattern, int cflags);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int regexec(byte* preg, string text, nuint nmatch, nint pmatch, int eflags);

    [LibraryImport("libc")]
    private static unsafe partial void regfree(byte* preg);

    /// <summary>What glibc says: null when it refuses the pattern, else whether each name matches.</summary>
    private static unsafe bool[]? Glibc(string pattern, string[] names)
    {
        byte* preg = stackalloc byte[256]; // regex_t is 64 bytes on x86-64
        if (regcomp(preg, pattern, REG_EXTENDED | REG_NOSUB) != 0)
            return null;
        try
        {
            return names.Select(n => regexec(preg, n, 0, 0, 0) == 0).ToArray();
        }
        finally
        {
            regfree(preg);
        }
    }

    private static readonly string[] Names =
    [
        "", "sleep", "sleeper", "asleep", "bash", "sh", "kworker/0:1", "python3.11", "a.b", "axb",
        "a\\b", "a]b", "a-b", "a^b", "x$", "aaa", "ab", "abab", "A1", "tab\there", "line\nbreak",
        "[x]", "{2}", "a{b", "Ünïcode", "nginx: worker", "collectd", "x+y", "foo bar",
    ];

    [Theory]
    [InlineData("sleep")]
    [InlineData("^sleep$")]
    [InlineData("^s")]
    [InlineData("p$")]
    [InlineData("sl(e|a)ep")]
    [InlineData("^(bash|sh)$")]
    [InlineData("a.b")]
    [InlineData("a\\.b")]
    [InlineData("[a-c]+")]
    [InlineData("^[^a-z]")]
    [InlineData("a[]]b")]
    [InlineData("a[^]]b")]
    [InlineData("a[\\]b")]
    [InlineData("a[-]b")]
    [InlineData("a[x-]b")]
    [InlineData("a[]^-]b")]
    [InlineData("[[:digit:]]")]
    [InlineData("^[[:alpha:]][[:alnum:]]$")]
    [InlineData("[[:space:]]")]
    [InlineData("[[:punct:]]")]
    [InlineData("[[:upper:][:digit:]]")]
    [InlineData("[[.-.]]")]
    [InlineData("[[=a=]]b")]
    [InlineData("a{2}")]
    [InlineData("^a{1,2}$")]
    [InlineData("^(ab){2,}$")]
    [InlineData("^a{,2}$")]
    [InlineData("x\\$")]
    [InlineData("x\\+y")]
    [InlineData("\\[x\\]")]
    [InlineData("a\\{b")]
    [InlineData("\\w+/[0-9]")]
    [InlineData("\\bbar")]
    [InlineData("\\s")]
    [InlineData("")]
    [InlineData("()")]
    [InlineData("(|x)y")]
    [InlineData("line.break")]
    [InlineData("^.*$")]
    [InlineData("python[0-9.]+$")]
    [InlineData("^nginx: ")]
    [InlineData("#")]
    [InlineData("a)")]
    [InlineData("(a))")]
    public void Agrees_with_glibc(string pattern)
    {
        var expected = Glibc(pattern, Names);
        Assert.NotNull(expected); // glibc takes every pattern of this list
        var regex = PosixExtendedRegex.Compile(pattern);
        var actual = Names.Select(n => regex.IsMatch(n)).ToArray();
        var differences = Names.Where((n, i) => actual[i] != expected[i]).Select(n => $"'{n}': glibc {!Glibc(pattern, [n])![0]}, ours {regex.IsMatch(n)}");
        Assert.Empty(differences);
    }

    [Theory]
    [InlineData("(")]
    [InlineData("[abc")]
    [InlineData("[[:nosuch:]]")]
    [InlineData("a{2,1}")]
    [InlineData("a\\")]
    [InlineData("[[:alpha:")]
    public void Refuses_what_glibc_refuses(string pattern)
    {
        Assert.Null(Glibc(pattern, Names));
        Assert.Throws<ArgumentException>(() => PosixExtendedRegex.Compile(pattern));
    }

    [Fact]
    public void A_pattern_that_backtracks_exponentially_elsewhere_matches_in_linear_time()
    {
        // (a+)+$ on "aaaa...b" is the textbook catastrophic case for a backtracking engine.
        var regex = PosixExtendedRegex.Compile("^(a+)+$");
        Assert.DoesNotMatch(regex, new string('a', 5000) + "b");
    }
}
