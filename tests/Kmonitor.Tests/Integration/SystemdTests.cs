using System.Net.Sockets;
using System.Text;
using Kmonitor.Tests.Infrastructure;

namespace Kmonitor.Tests.Integration;

/// <summary>What systemd sees of the daemon: sd_notify datagrams, and log lines with journal priorities.</summary>
public class SystemdTests
{
    [Fact]
    public void Under_Type_notify_it_sends_READY_then_WATCHDOG_pings_then_STOPPING()
    {
        Root.Require();
        string path = Path.Combine(Path.GetTempPath(), $"kmt-notify-{Guid.NewGuid():N}.sock");
        using var systemd = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        systemd.Bind(new UnixDomainSocketEndPoint(path));
        systemd.ReceiveTimeout = 30_000;
        try
        {
            var environment = new Dictionary<string, string>
            {
                ["NOTIFY_SOCKET"] = path,
                ["WATCHDOG_USEC"] = "400000",
                ["JOURNAL_STREAM"] = "8:1234",
                // SIGTERM ends the device here, as a stop does: the handover is HandoverTests' business.
                ["KMONITORD_HANDOVER"] = "no",
            };
            using var daemon = DaemonProcess.Launch(TestPaths.UniqueName(), environment);
            string Next()
            {
                var buffer = new byte[256];
                string message = Encoding.UTF8.GetString(buffer, 0, systemd.Receive(buffer));
                Assert.False(message.StartsWith("FDSTORE"), $"with --handover no nothing is stored: {message}");
                return message;
            }
            Assert.Equal("READY=1", Next());
            Assert.True(File.Exists(daemon.DevicePath) || new FileInfo(daemon.DevicePath).LinkTarget is not null, "READY=1 before the device exists");
            Assert.Equal("WATCHDOG=1", Next());
            Assert.Equal("WATCHDOG=1", Next()); // every half interval, while the dispatcher turns
            daemon.Signal(Posix.SIGTERM);
            string message;
            while ((message = Next()) == "WATCHDOG=1") { }
            Assert.Equal("STOPPING=1", message);
            Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(20)));
            // Journal priorities instead of "kmonitord: info:": <6> info, <4> warning, <3> error.
            Assert.Contains(daemon.Log, l => l.StartsWith("<6>ready: "));
            Assert.DoesNotContain(daemon.Log, l => l.StartsWith("kmonitord: "));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
