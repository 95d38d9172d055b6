using Kmonitor.Security;

namespace Kmonitor;

/// <summary>The service's settings: who may watch whom, and how much one caller may register.</summary>
/// <param name="Policy">Owner (the default) or Open (the 2004 behaviour).</param>
/// <param name="MaxPerFile">Registrations one open file may hold; past it REGISTER is ENOSPC.</param>
/// <param name="MaxPerUid">Registrations all monitors of one (real) uid may hold together.</param>
/// <param name="RelayCommand">How to start the signal relay for monitors in other pid namespaces
/// (the daemon's own executable, and its arguments up to "relay"); null: no relay, such monitors get
/// si_pid 0 as the kernel sets it for a signal from an ancestor namespace.</param>
public sealed record ServiceOptions(
    WatchPolicyKind Policy = WatchPolicyKind.Owner,
    int MaxPerFile = ServiceOptions.DefaultMaxPerFile,
    int MaxPerUid = ServiceOptions.DefaultMaxPerUid,
    IReadOnlyList<string>? RelayCommand = null)
{
    /// <summary>The default of --max-per-file: written here only.</summary>
    public const int DefaultMaxPerFile = 65_536;

    /// <summary>The default of --max-per-uid: written here only.</summary>
    public const int DefaultMaxPerUid = 262_144;
}
