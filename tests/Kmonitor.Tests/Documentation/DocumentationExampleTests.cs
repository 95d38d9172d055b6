using System.Diagnostics;
using System.Text.RegularExpressions;
using Kmonitor.Abi;
using Kmonitor.Tests.Infrastructure;

namespace Kmonitor.Tests.Documentation;

/// <summary>
/// The C examples of the README and kmonitor(4) are what a programmer copies first, so they must
/// build against include/linux/kmonitor.h as printed, and the page and the README must show the
/// same records example: a change to the header or to one document that the other misses fails here.
/// </summary>
public partial class DocumentationExampleTests
{
    private static readonly string Readme = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "README.md"));
    private static readonly string ManPage = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "man", "kmonitor.4"));

    [GeneratedRegex(@"^```c\n(.*?)^```$", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex MarkdownC();

    [GeneratedRegex(@"^\.EX\n(.*?)^\.EE$", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex RoffExample();

    private static List<string> ReadmeExamples() => MarkdownC().Matches(Readme).Select(m => m.Groups[1].Value).ToList();

    /// <summary>The .EX blocks of the EXAMPLES section, with roff's escapes turned back into C.</summary>
    private static List<string> ManExamples()
    {
        int start = ManPage.IndexOf("\n.SH EXAMPLES", StringComparison.Ordinal);
        int end = ManPage.IndexOf("\n.SH ", start + 1, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "kmonitor(4) has no EXAMPLES section");
        return RoffExample().Matches(ManPage[start..end])
            .Select(m => m.Groups[1].Value.Replace(@"\e", @"\").Replace(@"\-", "-").Replace(@"\(dq", "\""))
            .ToList();
    }

    public static TheoryData<string, int> Examples()
    {
        var data = new TheoryData<string, int>();
        for (int i = 0; i < ReadmeExamples().Count; i++)
            data.Add("README", i);
        for (int i = 0; i < ManExamples().Count; i++)
            data.Add("kmonitor.4", i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Example_compiles_against_the_header(string document, int index)
    {
        string source = (document == "README" ? ReadmeExamples() : ManExamples())[index];
        string dir = Directory.CreateTempSubdirectory("kmdoc").FullName;
        try
        {
            string file = Path.Combine(dir, "example.c");
            File.WriteAllText(file, source);
            var start = new ProcessStartInfo("cc")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-I", Path.Combine(TestPaths.RepoRoot, "include"),
                                        "-o", Path.Combine(dir, "example"), file })
                start.ArgumentList.Add(arg);
            using var cc = Process.Start(start)!;
            string errors = cc.StandardError.ReadToEnd();
            cc.WaitForExit();
            Assert.True(cc.ExitCode == 0, $"{document} example {index} does not compile:\n{errors}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void The_page_and_the_README_show_the_same_records_example()
    {
        var readme = ReadmeExamples().Where(e => e.Contains("KMONITOR_IOWR_SUBSCRIBE")).ToList();
        var man = ManExamples().Where(e => e.Contains("KMONITOR_IOWR_SUBSCRIBE")).ToList();
        Assert.Single(readme);
        Assert.Single(man);
        Assert.Equal(readme[0], man[0]);
    }

    [Fact]
    public void Both_documents_give_the_ioctl_numbers_the_daemon_answers()
    {
        foreach (uint number in new[] { KmonitorAbi.KMONITOR_IOW_REGISTER, KmonitorAbi.KMONITOR_IOW_DEREGISTER,
                                        SubscriptionAbi.KMONITOR_IOWR_SUBSCRIBE, SubscriptionAbi.KMONITOR_IOW_UNSUBSCRIBE })
        {
            Assert.Contains($"0x{number:X8}", Readme);
            Assert.Contains($"0x{number:X8}", ManPage);
        }
    }
}
