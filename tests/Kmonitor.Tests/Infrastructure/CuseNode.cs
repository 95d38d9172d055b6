using System.Collections.Concurrent;
using Kmonitor.Fuse;
using Kmonitor.Fuse.Channel;

namespace Kmonitor.Tests.Infrastructure;

/// <summary>
/// A real CUSE device /dev/NAME over a device of the test's own, served by a real
/// <see cref="FuseSession"/> on a thread of this process; needs a kernel with CUSE (the VM's).
/// </summary>
public sealed class CuseNode : IServedFile
{
    private static readonly TimeSpan Appearing = TimeSpan.FromSeconds(30);
    private readonly FuseChannel _channel;
    private readonly Thread _serving;

    public CuseNode(ICharacterDevice device)
    {
        Root.Require();
        string name = TestPaths.UniqueName("kmcuse");
        FilePath = $"/dev/{name}";
        _channel = FuseChannel.Open("/dev/cuse");
        Session = FuseSession.ForCuse(_channel, new CuseDeviceInfo(name, 0, 0), device, (level, message) => Log.Enqueue($"{level}: {message}"));
        _serving = new Thread(() => Session.Run()) { IsBackground = true, Name = "cuse test session" };
        _serving.Start();
        // The kernel makes the node while it handles the CUSE_INIT reply (devtmpfs, at once).
        if (!SpinWait.SpinUntil(() => File.Exists(FilePath), Appearing))
        {
            Dispose();
            throw new InvalidOperationException($"{FilePath} did not appear within {Appearing} of CUSE_INIT");
        }
    }

    public FuseSession Session { get; }

    public string FilePath { get; }

    public ConcurrentQueue<string> Log { get; } = new();

    /// <summary>Closing /dev/cuse removes the device and ends what still waits on it.</summary>
    public void Dispose()
    {
        _channel.Stop();
        _serving.Join();
        _channel.Dispose();
    }
}
