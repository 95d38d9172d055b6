using Kmonitor.Diagnostics;
using Kmonitor.Fuse.Channel;
using Kmonitor.Interop;

namespace Kmonitor.Daemon.Handover;

/// <summary>
/// What a previous instance handed over through systemd's fd store, checked before anything else
/// starts: the channel (/dev/fuse or /dev/cuse, initialised), the netlink socket (still subscribed,
/// with the events of the gap queued in it) and the state. All three and a state this version reads,
/// or nothing: a half-restored daemon would serve files whose registrations it does not have.
/// </summary>
public sealed class Takeover
{
    public const string ChannelName = "channel";
    public const string NetlinkName = "netlink";
    public const string StateName = "state";

    public HandoverState State { get; }
    public FuseChannel Channel { get; }

    /// <summary>The connector socket; the engine takes ownership.</summary>
    public int NetlinkFd { get; }

    private Takeover(HandoverState state, FuseChannel channel, int netlinkFd)
    {
        State = state;
        Channel = channel;
        NetlinkFd = netlinkFd;
    }

    /// <summary>
    /// The takeover the fd store allows, or null to start fresh. When the store held something that
    /// cannot be used, says why in one line, removes it from the store, and clears the previous
    /// instance's mount and link (which nobody would answer for) so the fresh start finds the name free.
    /// </summary>
    public static Takeover? Prepare(ListenFds fds, FdStore? store, DevicePaths paths)
    {
        if (fds.IsEmpty)
            return null;
        int? channel = fds.Take(ChannelName), netlink = fds.Take(NetlinkName), stateFd = fds.Take(StateName);
        string? problem = null;
        HandoverState? state = null;
        if (fds.RepeatedNames.Count > 0)
            problem = $"the fd store holds more than one descriptor named {string.Join(" and ", fds.RepeatedNames)}";
        else if (channel is null || netlink is null || stateFd is null)
            problem = $"the fd store holds {string.Join(", ", new[] { (ChannelName, channel), (NetlinkName, netlink), (StateName, stateFd) }.Where(p => p.Item2 is not null).Select(p => p.Item1).DefaultIfEmpty("none"))} of channel, netlink and state";
        else
        {
            try
            {
                state = StateFormat.Read(StateMemfd.ReadCurrent(stateFd.Value));
                if (state.DevicePath != paths.DevicePath)
                    problem = $"the state is for {state.DevicePath}, not {paths.DevicePath}";
            }
            catch (FormatException e)
            {
                problem = e.Message;
            }
        }
        if (stateFd is int s)
            Tmds.Linux.LibC.close(s); // read once: the next handover writes a new one
        fds.CloseRest();
        if (problem is null)
        {
            string path = state!.Mode == "cuse" ? CuseFrontEnd.CuseControlPath : "/dev/fuse";
            return new Takeover(state, FuseChannel.Adopt(path, channel!.Value), netlink!.Value);
        }
        Log.Warning($"the previous instance's state cannot be used ({problem}): starting fresh");
        if (channel is int c)
            Tmds.Linux.LibC.close(c);
        if (netlink is int n)
            Tmds.Linux.LibC.close(n);
        foreach (var name in new[] { ChannelName, NetlinkName, StateName })
            store?.Remove(name);
        ClearFuseLeftovers(paths);
        return null;
    }

    /// <summary>
    /// The store kept the old connection alive, so its mount would not look dead to the crash-recovery
    /// path (it would wait for an answer); it is ours, so it is detached here, and the link with it.
    /// </summary>
    private static void ClearFuseLeftovers(DevicePaths paths)
    {
        if (File.ReadAllText("/proc/self/mounts").Contains($" {paths.MountPoint} "))
        {
            if (PathCalls.Detach(paths.MountPoint) != 0)
                Log.Warning($"unmounting {paths.MountPoint}: {Errno.Describe(Errno.Last)}");
        }
        if (new FileInfo(paths.DevicePath).LinkTarget == paths.MountedFile)
            File.Delete(paths.DevicePath);
    }
}
