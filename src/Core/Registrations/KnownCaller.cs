namespace Kmonitor.Registrations;

/// <summary>
/// A thread that has registered through a file before, remembered so that its next REGISTER can skip
/// reading its /proc status (half the cost of a REGISTER). Only what cannot change unseen is relied
/// on: its process (held by the monitor's pidfd, and checked to still contain the thread), and its
/// real uid, trusted only while the filesystem uid the kernel puts in every request is the one it
/// had when this was read. The watch policy itself is never decided from here: see
/// <see cref="Registrar.Register"/>.
/// </summary>
internal sealed record KnownCaller(MonitorProcess Monitor, uint RealUid, uint FsUid)
{
    /// <summary>How many callers a file remembers; past that it forgets them all and starts again.</summary>
    public const int MaxPerFile = 256;
}
