using Kmonitor.Security;

namespace Kmonitor;

/// <summary>The service's settings: who may watch whom, how much one caller may register, and how many records a file holds.</summary>
/// <param name="Policy">Owner (the default) or Open (the 2004 behaviour).</param>
/// <param name="MaxPerFile">Registrations one open file may hold; past it REGISTER is ENOSPC.</param>
/// <param name="MaxPerUid">Registrations all monitors of one (real) uid may hold together.</param>
/// <param name="RelayCommand">How to start the signal relay for monitors in other pid namespaces
/// (the daemon's own executable, and its arguments up to "relay"); null: no relay, such monitors get
/// si_pid 0 as the kernel sets it for a signal from an ancestor namespace.</param>
/// <param name="QueueLength">Records one open file holds unread; past it they are dropped, counted and reported by a LOST record.</param>
public sealed record ServiceOptions(
    WatchPolicyKind Policy = WatchPolicyKind.Owner,
    int MaxPerFile = ServiceOptions.DefaultMaxPerFile,
    int MaxPerUid = ServiceOptions.DefaultMaxPerUid,
    IReadOnlyList<string>? RelayCommand = null,
    int QueueLength = ServiceOptions.DefaultQueueLength)
{
    /// <summary>The default of --queue-length: written here only.</summary>
    public const int DefaultQueueLength = 4096;

    /// <summary>The default of --max-per-file: written here only.</summary>
    public const int DefaultMaxPerFile = 65_536;

    /// <summary>The default of --max-per-uid: written here only.</summary>
    public const int DefaultMaxPerUid = 262_144;
}
