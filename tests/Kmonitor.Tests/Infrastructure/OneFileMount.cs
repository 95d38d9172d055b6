using System.Collections.Concurrent;
using Kmonitor.Daemon;
using Kmonitor.Fuse;
using Kmonitor.Fuse.Channel;
using Kmonitor.Fuse.FileSystem;

namespace Kmonitor.Tests.Infrastructure;

/// <summary>
/// A real FUSE mount of the one-file file system over a device of the test's own, served by a real
/// <see cref="FuseSession"/> on a thread of this process: the kernel's side of the protocol, without
/// the daemon. The file is <see cref="FilePath"/>, mode 0666.
/// </summary>
public sealed class OneFileMount : IServedFile
{
    private readonly FuseChannel _channel;
    private readonly Thread _serving;
    private readonly string _mountPoint;
    private bool _mounted;

    public OneFileMount(ICharacterDevice device)
    {
        Root.Require();
        _mountPoint = Path.Combine(Path.GetTempPath(), TestPaths.UniqueName("kmfuse"));
        Directory.CreateDirectory(_mountPoint);
        _channel = FuseChannel.Open("/dev/fuse");
        string data = $"fd={_channel.Fd},rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions";
        if (PathCalls.MountFuse("kmtest", _mountPoint, "fuse.kmtest", data) != 0)
        {
            int errno = Tmds.Linux.LibC.errno;
            Dispose();
            throw new InvalidOperationException($"mount fuse on {_mountPoint}: errno {errno}");
        }
        _mounted = true;
        var fileSystem = new OneFileFileSystem("device", 0x1B6 /* 0666 */, 0, 0, 0, device);
        Session = FuseSession.ForMount(_channel, fileSystem, (level, message) => Log.Enqueue($"{level}: {message}"));
        _serving = new Thread(() => Session.Run()) { IsBackground = true, Name = "fuse test session" };
        _serving.Start();
    }

    public FuseSession Session { get; } = null!;

    public string FilePath => Path.Combine(_mountPoint, "device");

    /// <summary>What the session logged: a test that expects nothing logged checks it is empty.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    public void Dispose()
    {
        _channel.Stop();
        _serving?.Join();
        // Closing /dev/fuse aborts the connection, so nothing still blocked on the file hangs.
        _channel.Dispose();
        if (_mounted)
            Posix.Umount(_mountPoint);
        try { Directory.Delete(_mountPoint); }
        catch (IOException) { } // still busy: a detached mount goes when its last user closes the file
    }
}
