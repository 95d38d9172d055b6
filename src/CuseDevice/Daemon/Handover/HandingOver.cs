using Kmonitor.Daemon.Device;
using Kmonitor.Diagnostics;
using Kmonitor.Handover;

namespace Kmonitor.Daemon.Handover;

/// <summary>
/// A planned stop under systemd (SIGTERM with $NOTIFY_SOCKET set): instead of ending the device, the
/// daemon leaves it to its next instance. The request loop has stopped after its current request;
/// here the listener stops after its current datagram (the rest stay queued in the socket) and the
/// dispatcher finishes what it had taken; then the state is written and the three descriptors stored.
/// </summary>
public static class HandingOver
{
    /// <summary>True when everything is in the store; false when storing failed (the caller stops as before).</summary>
    public static bool Run(FdStore store, KmonitorEngine engine, IFrontEnd frontEnd, KmonitorDevice device, DevicePaths paths, StateJournal? journal)
    {
        using var netlink = engine.StopForHandover();
        var state = Capture(engine, frontEnd, device, paths);
        var service = state.Service;
        var parked = state.ParkedReads;
        if (journal is not null)
        {
            // The descriptors are in the store since the start: only the state needs its final version.
            journal.Write(state);
            frontEnd.HandOver();
            Log.Info($"handed over to the next instance: {service.Files.Count} open files, {service.Files.Sum(f => f.Registrations.Count)} registrations, {parked.Count} blocked reads");
            return true;
        }
        int stateFd = StateMemfd.Create(StateFormat.Write(state));
        int channelFd = frontEnd.Channel.Duplicate();
        try
        {
            using var borrowed = netlink.Borrow();
            // The old state first: systemd keeps every descriptor stored under a name until it is removed.
            store.Remove(Takeover.StateName);
            if (store.Store(Takeover.ChannelName, channelFd) != 0 || store.Store(Takeover.NetlinkName, borrowed.Number) != 0
                || store.Store(Takeover.StateName, stateFd) != 0)
                return false;
        }
        finally
        {
            Tmds.Linux.LibC.close(stateFd);
            Tmds.Linux.LibC.close(channelFd);
        }
        frontEnd.HandOver();
        int registrations = service.Files.Sum(f => f.Registrations.Count);
        Log.Info($"handed over to the next instance: {service.Files.Count} open files, {registrations} registrations, {parked.Count} blocked reads");
        return true;
    }

    /// <summary>The whole state now: the service's, the blocked reads, and how the device is served.</summary>
    public static HandoverState Capture(KmonitorEngine engine, IFrontEnd frontEnd, KmonitorDevice device, DevicePaths paths)
    {
        var service = ServiceSnapshot.Capture(engine.Service);
        var parked = device.ParkedReads.Snapshot().Select(p => new ParkedReadState(p.Unique, p.Fh, p.BufferBytes)).ToList();
        return new HandoverState(StateFormat.DaemonVersion, frontEnd.Mode, paths.DevicePath, paths.MountPoint,
            frontEnd.Session.NegotiatedMinor, service, parked);
    }
}
