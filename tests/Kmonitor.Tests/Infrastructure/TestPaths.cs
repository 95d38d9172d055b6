using System.Reflection;

namespace Kmonitor.Tests.Infrastructure;

/// <summary>Where the programs under test are: the daemon beside the tests, the C clients in native/.</summary>
public static class TestPaths
{
    private static string Metadata(string key) =>
        typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    public static string RepoRoot { get; } = Metadata("RepoRoot");

    public static string Daemon { get; } = Path.Combine(AppContext.BaseDirectory, "kmonitord.dll");

    /// <summary>The kmonitor command, built beside the tests as the daemon is (run it with dotnet).</summary>
    public static string Command { get; } = Path.Combine(AppContext.BaseDirectory, "kmonitor.dll");

    public static string Native(string program)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "native", program);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path} is missing: the test build runs make for the C clients (needs gcc and make)");
        return path;
    }

    public static string WaitOnPidSample { get; } =
        Path.Combine(RepoRoot, "src", "Samples", "wait_on_pid", "bin", Metadata("Configuration"), "net10.0", "wait_on_pid.dll");

    public static string WatchExecSample { get; } =
        Path.Combine(RepoRoot, "src", "Samples", "watch_exec", "bin", Metadata("Configuration"), "net10.0", "watch_exec.dll");

    /// <summary>A device name no other test (or daemon on the machine) uses.</summary>
    public static string UniqueName(string prefix = "kmt") => $"{prefix}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
}
