namespace Kmonitor.Registrations;

/// <summary>
/// One open file of the device (one FUSE/CUSE file handle). Registrations belong to it: closing it
/// drops them all. Its lock guards its own index of registrations, monitors and known callers, and
/// is never held across a system call.
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

    /// <summary>The file's live registration on <paramref name="target"/>, if it has one.</summary>
    internal Registration? Find(int target)
    {
        lock (Gate)
            return ByTarget.TryGetValue(target, out var registration) && !registration.Removed ? registration : null;
    }

    /// <summary>Takes a registration that has left the table out of the file's index too.</summary>
    internal void Forget(Registration registration)
    {
        lock (Gate)
        {
            if (ByTarget.TryGetValue(registration.Target, out var current) && current == registration)
                ByTarget.Remove(registration.Target);
        }
    }

    public override string ToString() => $"file {Handle}";
}
