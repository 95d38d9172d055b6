using System.Net.Sockets;
using Kmonitor.Diagnostics;

namespace Kmonitor.Daemon;

/// <summary>
/// /run/kmonitor/NAME.sock: a Unix socket that answers a one-line request ("status", or
/// "status live-heap" to measure the live managed heap after a full collection) with the status
/// report, and closes. Readable by root only (mode 0600): it names every monitor process.
/// </summary>
public sealed class StatusSocket : IDisposable
{
    private readonly Socket _listener;
    private readonly string _path;
    private readonly Func<bool, byte[]> _report;
    private readonly Thread _thread;

    public static string PathFor(DevicePaths paths) => Path.Combine(paths.RunDirectory, paths.Name + ".sock");

    public StatusSocket(string path, Func<bool, byte[]> report)
    {
        _path = path;
        _report = report;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // A socket file left by a daemon that was killed is StaleDevice's to remove, before we get here.
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _listener.Bind(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException e)
        {
            _listener.Dispose();
            throw new KmonitorException($"cannot create the status socket {path}: {e.Message}");
        }
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        _listener.Listen(16);
        _thread = new Thread(Serve) { IsBackground = true, Name = "kmonitor-status" };
        _thread.Start();
    }

    private void Serve()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return; // closed at shutdown
            }
            using (client)
            {
                try
                {
                    client.ReceiveTimeout = 2000; // a client that sends nothing does not hold the socket
                    var request = new byte[64];
                    int n = client.Receive(request);
                    bool liveHeap = System.Text.Encoding.ASCII.GetString(request, 0, n).Contains("live-heap");
                    client.Send(_report(liveHeap));
                }
                catch (Exception e)
                {
                    Log.Warning($"status socket: {e.Message}");
                }
            }
        }
    }

    /// <summary>Reads a report from a running daemon's socket.</summary>
    public static byte[] Query(string path, bool liveHeap = false)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Connect(new UnixDomainSocketEndPoint(path));
        socket.Send(System.Text.Encoding.ASCII.GetBytes(liveHeap ? "status live-heap\n" : "status\n"));
        socket.Shutdown(SocketShutdown.Send);
        using var memory = new MemoryStream();
        var buffer = new byte[16384];
        int n;
        while ((n = socket.Receive(buffer)) > 0)
            memory.Write(buffer, 0, n);
        return memory.ToArray();
    }

    public void Dispose()
    {
        _listener.Dispose();
        try { File.Delete(_path); } catch (IOException) { }
    }
}
