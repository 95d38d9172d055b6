using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>
/// What Tmds.LibC 0.5.0 lacks for the netlink process connector (linux/netlink.h,
/// linux/connector.h). The messages themselves are laid out in Events/ProcConnectorMessage.
/// </summary>
public static class NetlinkConnector
{
    public const int NETLINK_CONNECTOR = 11;
}

/// <summary>struct sockaddr_nl: the same 12 bytes on every architecture.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SockaddrNl
{
    public ushort Family;
    public ushort Pad;
    public uint Pid;
    public uint Groups;
}
