using System.Net.Sockets;

namespace Kmonitor.Command.Status;

/// <summary>
/// The client side of the daemon's status socket, /run/kmonitor/NAME.sock: send a one-line
/// request, read the JSON report until the daemon closes. The protocol is kmonitord's
/// (src/CuseDevice/Daemon/StatusSocket.cs); the command does not reference the daemon.
/// </summary>
public static class StatusSocket
{
    public const string RunDirectory = "/run/kmonitor";

    /// <summary>
    /// The name the daemon serves a device path under: /dev/NAME, or in FUSE mode the file it
    /// links to, /run/kmonitor/NAME/device.
    /// </summary>
    public static string NameOf(string devicePath)
    {
        string path = devicePath;
        try
        {
            if (new FileInfo(devicePath).ResolveLinkTarget(returnFinalTarget: true) is { } target)
                path = target.FullName;
        }
        catch (IOException)
        {
            // not a link we can follow: its own name is all there is
        }
        return Path.GetFileName(path) == "device" && Path.GetDirectoryName(Path.GetDirectoryName(path)) == RunDirectory
            ? Path.GetFileName(Path.GetDirectoryName(path))!
            : Path.GetFileName(devicePath);
    }

    public static string PathFor(string name) => Path.Combine(RunDirectory, name + ".sock");

    public static byte[] Query(string socketPath)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        socket.ReceiveTimeout = 10_000; // a wedged daemon is an error, not a hang
        socket.Send("status\n"u8);
        socket.Shutdown(SocketShutdown.Send);
        using var report = new MemoryStream();
        var buffer = new byte[16384];
        int n;
        while ((n = socket.Receive(buffer)) > 0)
            report.Write(buffer, 0, n);
        return report.ToArray();
    }
}
