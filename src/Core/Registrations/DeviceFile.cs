namespace Kmonitor.Registrations;

/// <summary>
/// One open file of the device (one FUSE/CUSE file handle). Registrations belong to it: closing it
/// drops them all. Its lock guards its own index of registrations and monitors.
/// </summary>
public sealed class DeviceFile(ulong handle)
{
    public ulong Handle { get; } = handle;

    internal readonly object Gate = new();
    internal readonly Dictionary<int, Registration> ByTarget = [];
    internal readonly Dictionary<int, MonitorProcess> Monitors = [];

    /// <summary>Threads that have registered through this file, by tid (<see cref="KnownCaller"/>).</summary>
    internal readonly Dictionary<int, KnownCaller> Callers = [];
    internal bool Closed;

    /// <summary>How many registrations the file holds now.</summary>
    public int RegistrationCount { get { lock (Gate) return ByTarget.Count; } }

    public override string ToString() => $"file {Handle}";
}
