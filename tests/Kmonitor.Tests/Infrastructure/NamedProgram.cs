namespace Kmonitor.Tests.Infrastructure;

/// <summary>
/// A copy of a program under a name no other process on the machine has (at most 15 bytes, so it
/// is the whole comm), for tests of subscriptions by name. Deleted on dispose.
/// </summary>
public sealed class NamedProgram : IDisposable
{
    private readonly string _dir;

    public NamedProgram(string source, string prefix = "kmt")
    {
        Name = $"{prefix}{Guid.NewGuid().ToString("N")[..(15 - prefix.Length)]}";
        // A directory of its own, readable by the unprivileged test users too.
        _dir = Directory.CreateTempSubdirectory("kmonitor-named-").FullName;
        File.SetUnixFileMode(_dir, (UnixFileMode)0x1ED); // 0755
        Path = System.IO.Path.Combine(_dir, Name);
        File.Copy(source, Path);
        File.SetUnixFileMode(Path, (UnixFileMode)0x1ED);
    }

    /// <summary>The name: the file's name and the comm of a process that execs it.</summary>
    public string Name { get; }

    public string Path { get; }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
