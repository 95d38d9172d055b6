namespace Kmonitor.Daemon.Handover;

/// <summary>
/// The descriptors systemd passes to a service at start (sd_listen_fds_with_names(3) semantics):
/// $LISTEN_FDS of them from fd 3 on, named by the colon-separated $LISTEN_FDNAMES, meant for the
/// process $LISTEN_PID. Here they are the fd store's contents from the previous instance.
/// </summary>
public sealed class ListenFds
{
    /// <summary>The first passed descriptor (SD_LISTEN_FDS_START).</summary>
    public const int ListenFdsStart = 3;

    private readonly Dictionary<string, int> _byName;

    /// <summary>Descriptors under a name already taken by an earlier one: never used, closed by <see cref="CloseRest"/>.</summary>
    private readonly List<int> _repeats;

    private ListenFds(Dictionary<string, int> byName, List<int> repeats)
    {
        _byName = byName;
        _repeats = repeats;
    }

    public static readonly ListenFds None = new([], []);

    /// <summary>
    /// Names given to more than one descriptor. This daemon stores one per name, so a repeat means a
    /// store it cannot vouch for (which of two "channel"s is the device?).
    /// </summary>
    public IReadOnlyList<string> RepeatedNames { get; private init; } = [];

    /// <summary>How many descriptors are held under a name nobody took yet (repeats aside).</summary>
    public int Count => _byName.Count;

    /// <summary>Whether systemd passed anything at all.</summary>
    public bool IsEmpty => _byName.Count == 0 && _repeats.Count == 0;

    public IReadOnlyDictionary<string, int> ByName => _byName;

    /// <summary>The descriptor stored under <paramref name="name"/>, which the caller now owns.</summary>
    public int? Take(string name) => _byName.Remove(name, out int fd) ? fd : null;

    /// <summary>
    /// Reads the three variables. Descriptors meant for another process (a $LISTEN_PID not ours:
    /// inherited by mistake through a fork) are not ours to use. A descriptor without a name, or
    /// named twice, keeps the first; "unknown" is systemd's name for one stored without FDNAME.
    /// </summary>
    public static ListenFds Parse(string? listenFds, string? listenPid, string? names, int ownPid)
    {
        if (!int.TryParse(listenPid, out int pid) || pid != ownPid)
            return None;
        if (!int.TryParse(listenFds, out int count) || count <= 0)
            return None;
        var split = (names ?? "").Split(':');
        var byName = new Dictionary<string, int>();
        var repeats = new List<int>();
        var repeatedNames = new List<string>();
        for (int i = 0; i < count; i++)
        {
            string name = i < split.Length && split[i].Length > 0 ? split[i] : "unknown";
            if (byName.TryAdd(name, ListenFdsStart + i))
                continue;
            repeats.Add(ListenFdsStart + i);
            if (!repeatedNames.Contains(name))
                repeatedNames.Add(name);
        }
        return new ListenFds(byName, repeats) { RepeatedNames = repeatedNames };
    }

    /// <summary>
    /// Reads the environment and unsets the variables, so a process the daemon starts (a relay)
    /// does not take the descriptors for its own; marks them close-on-exec for the same reason.
    /// </summary>
    public static ListenFds FromEnvironment()
    {
        var fds = Parse(Environment.GetEnvironmentVariable("LISTEN_FDS"), Environment.GetEnvironmentVariable("LISTEN_PID"),
            Environment.GetEnvironmentVariable("LISTEN_FDNAMES"), Environment.ProcessId);
        foreach (var variable in new[] { "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES" })
            Environment.SetEnvironmentVariable(variable, null);
        foreach (int fd in fds._byName.Values.Concat(fds._repeats))
            Tmds.Linux.LibC.fcntl(fd, Tmds.Linux.LibC.F_SETFD, Tmds.Linux.LibC.FD_CLOEXEC);
        return fds;
    }

    /// <summary>Closes what nobody took (a descriptor from an older version, a half-used store, a repeat).</summary>
    public void CloseRest()
    {
        foreach (int fd in _byName.Values.Concat(_repeats))
            Tmds.Linux.LibC.close(fd);
        _byName.Clear();
        _repeats.Clear();
    }
}
