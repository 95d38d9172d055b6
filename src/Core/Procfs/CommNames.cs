using System.Collections.Concurrent;
using System.Text;

namespace Kmonitor.Procfs;

/// <summary>
/// Task names (/proc/TID/comm) as strings without allocating one per read: the bytes are decoded
/// on the stack and looked up among the names already seen, so that the exec of a program the
/// machine has run before (nearly every exec) costs the read and no garbage. Name subscriptions
/// read a name at every exec on the machine; a string each time would be a gen0 allocation per
/// exec and with it the GC's budget in the daemon's RSS. Thread-safe: REGISTER reads names on
/// the FUSE threads, the dispatcher on its own.
/// </summary>
public sealed class CommNames
{
    /// <summary>Names kept at most; past it a new name is a new string each time (a machine with
    /// this many distinct program names is not the common case worth memory).</summary>
    public const int DefaultCapacity = 4096;

    /// <summary>TASK_COMM_LEN - 1: the kernel keeps at most 15 bytes of a name (64 with a kthread's).</summary>
    private const int MaxBytes = 64;

    private readonly ConcurrentDictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _bySpan;
    private readonly int _capacity;

    public CommNames(int capacity = DefaultCapacity)
    {
        _capacity = capacity;
        _bySpan = _names.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>How many names are kept.</summary>
    public int Count => _names.Count;

    /// <summary>/proc/TID/comm without its newline; null when the task is gone.</summary>
    public string? Read(int tid)
    {
        Span<byte> buffer = stackalloc byte[MaxBytes];
        int n = ProcFile.Read(tid, "comm"u8, buffer);
        if (n <= 0)
            return null;
        var name = buffer[..n];
        if (name[^1] == (byte)'\n')
            name = name[..^1];
        return Intern(name);
    }

    /// <summary>The string of a name's UTF-8 bytes: the one already kept when there is one.</summary>
    public string Intern(ReadOnlySpan<byte> utf8)
    {
        Span<char> chars = stackalloc char[MaxBytes];
        if (utf8.Length > MaxBytes)
            return Encoding.UTF8.GetString(utf8);
        int length = Encoding.UTF8.GetChars(utf8, chars);
        var key = chars[..length];
        if (_bySpan.TryGetValue(key, out var known))
            return known;
        var name = new string(key);
        if (_names.Count < _capacity)
            _names.TryAdd(name, name);
        return name;
    }
}
