using Kmonitor.Handover;

namespace Kmonitor.Daemon.Handover;

/// <summary>
/// Everything the next instance needs besides the two descriptors: how the device is served, what
/// the kernel agreed to at INIT, the service's state and the reads the kernel is still waiting on.
/// </summary>
/// <param name="Mode">"fuse" or "cuse": the channel is /dev/fuse or /dev/cuse.</param>
/// <param name="NegotiatedMinor">The FUSE protocol minor agreed at INIT; the kernel does not send INIT again.</param>
public sealed record HandoverState(
    string DaemonVersion, string Mode, string DevicePath, string MountPoint, uint NegotiatedMinor,
    ServiceState Service, List<ParkedReadState> ParkedReads);

/// <summary>A read(2) blocked in the daemon: the kernel waits for the answer to this unique.</summary>
public sealed record ParkedReadState(ulong Unique, ulong Fh, int BufferBytes);
