using Kmonitor.Records;

namespace Kmonitor.Registrations;

/// <summary>
/// One open file of the device (one FUSE/CUSE file handle). Registrations belong to it: closing it
/// drops them all. Its lock guards its own index of registrations, monitors and known callers, and
/// is never held across a system call. The records queued for it (REGISTER or SUBSCRIBE with signal
/// 0) are in <see cref="Records"/>, which has a lock of its own.
/// </summary>
public sealed class DeviceFile(ulong handle, int queueLength = ServiceOptions.DefaultQueueLength)
{
    public ulong Handle { get; } = handle;

    /// <summary>The records waiting to be read from this file, at most <c>queueLength</c>.</summary>
    public RecordQueue Records { get; } = new(queueLength);

    internal readonly object Gate = new();
    internal readonly Dictionary<int, Registration> ByTarget = [];
    internal readonly Dictionary<int, MonitorProcess> Monitors = [];

    /// <summary>Threads that have registered through this file, by tid (<see cref="KnownCaller"/>).</summary>
    internal readonly Dictionary<int, KnownCaller> Callers = [];
    internal bool Closed;

    /// <summary>Its subscriptions, by the id SUBSCRIBE returned.</summary>
    internal readonly Dictionary<uint, Subscriptions.Subscription> Subscriptions = [];

    /// <summary>The last id given: ids are never reused within the file.</summary>
    internal uint LastSubscriptionId;

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
