namespace Kmonitor;

/// <summary>The running kernel's version, from /proc/sys/kernel/osrelease (e.g. "6.1.0-56-amd64").</summary>
public static class KernelVersion
{
    public static Version Current { get; } = Parse(File.ReadAllText("/proc/sys/kernel/osrelease"));

    public static Version Parse(string release)
    {
        var parts = release.Trim().Split('.', '-', '+');
        int Part(int i) => i < parts.Length && int.TryParse(parts[i], out int v) ? v : 0;
        return new Version(Part(0), Part(1));
    }
}
