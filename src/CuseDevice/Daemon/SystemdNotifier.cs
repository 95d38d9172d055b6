using System.Net.Sockets;
using System.Text;
using Kmonitor.Diagnostics;

namespace Kmonitor.Daemon;

/// <summary>
/// sd_notify(3) in a few lines: a datagram to $NOTIFY_SOCKET (a path, or an abstract name when it
/// starts with '@'). Under Type=notify systemd waits for READY=1; with WatchdogSec it expects
/// WATCHDOG=1 at least every $WATCHDOG_USEC, and restarts the daemon when they stop.
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endpoint;
    private Timer? _watchdog;

    public SystemdNotifier()
    {
        string? path = Environment.GetEnvironmentVariable("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path))
            return;
        _endpoint = new UnixDomainSocketEndPoint(path[0] == '@' ? "\0" + path[1..] : path);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    public void Notify(string state)
    {
        if (_socket is null)
            return;
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), _endpoint!);
        }
        catch (SocketException e)
        {
            Log.Warning($"sd_notify {state}: {e.Message}");
        }
    }

    /// <summary>
    /// Sends WATCHDOG=1 every half $WATCHDOG_USEC while <paramref name="isAlive"/> says the work loop
    /// is turning: a wedged dispatcher stops the pings, and systemd restarts the daemon.
    /// </summary>
    public void StartWatchdog(Func<TimeSpan, bool> isAlive)
    {
        if (_socket is null || !long.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_USEC"), out long usec) || usec <= 0)
            return;
        if (int.TryParse(Environment.GetEnvironmentVariable("WATCHDOG_PID"), out int pid) && pid != Environment.ProcessId)
            return; // meant for another process
        var interval = TimeSpan.FromMicroseconds(usec);
        _watchdog = new Timer(_ =>
        {
            if (isAlive(interval))
                Notify("WATCHDOG=1");
            else
                Log.Error($"the dispatcher has not turned for {interval.TotalSeconds} s: withholding the watchdog ping so systemd restarts the daemon");
        }, null, TimeSpan.Zero, interval / 2);
    }

    public void Dispose()
    {
        _watchdog?.Dispose();
        _socket?.Dispose();
    }
}
