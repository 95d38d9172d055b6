using Kmonitor.Daemon.Device;
using Kmonitor.Diagnostics;
using Kmonitor.Fuse;
using Kmonitor.Fuse.Channel;
using Kmonitor.Interop;

namespace Kmonitor.Daemon;

/// <summary>
/// CUSE mode: a real character device /dev/NAME of class "cuse", created by the kernel when the
/// daemon answers CUSE_INIT on /dev/cuse, and removed when the daemon closes it.
/// </summary>
public sealed class CuseFrontEnd : IFrontEnd
{
    public const string CuseControlPath = "/dev/cuse";

    /// <summary>Exists while systemd-udevd runs.</summary>
    private const string UdevControlSocket = "/run/udev/control";
    private readonly DevicePaths _paths;
    private readonly FuseChannel _channel;
    private readonly FuseSession _session;
    private readonly uint _modeBits;
    private readonly int _gid;
    private readonly bool _adopted;

    public string Mode => "cuse";
    public FuseSession Session => _session;
    public FuseChannel Channel => _channel;

    /// <summary>Closing the channel of a handed-over device closes only this process's descriptor: the store holds another.</summary>
    public void HandOver() { }

    /// <summary>A takeover: /dev/NAME is the previous instance's device, alive while its channel is.</summary>
    public CuseFrontEnd(DevicePaths paths, KmonitorDevice device, FuseChannel channel, uint negotiatedMinor, uint major, uint minor)
    {
        _paths = paths;
        _channel = channel;
        _adopted = true;
        _session = FuseSession.ForCuse(_channel, new CuseDeviceInfo(paths.Name, major, minor), device, FuseLogging.ToDaemonLog);
        _session.ResumeInitialized(negotiatedMinor);
        device.ServeThrough(_session);
    }

    public string Description => $"{_paths.DevicePath} (cuse character device)";

    public CuseFrontEnd(DevicePaths paths, KmonitorDevice device, uint modeBits, int gid, uint major, uint minor)
    {
        _paths = paths;
        _modeBits = modeBits;
        _gid = gid;
        StaleDevice.CleanUp(paths);
        _channel = FuseChannel.Open(CuseControlPath);
        _session = FuseSession.ForCuse(_channel, new CuseDeviceInfo(paths.Name, major, minor), device, FuseLogging.ToDaemonLog);
        device.ServeThrough(_session);
    }

    public int Run(Action ready)
    {
        if (_adopted)
        {
            // No CUSE_INIT comes: the device exists, with the owner and mode it was given.
            ready();
            return _session.Run();
        }
        // The kernel makes the device while handling our CUSE_INIT reply, on the session's thread;
        // a watcher applies owner and mode (what udev's rule does where udev runs) and reports ready.
        var watcher = new Thread(() => WaitForDevice(ready)) { IsBackground = true, Name = "kmonitor-cuse-ready" };
        watcher.Start();
        return _session.Run();
    }

    /// <summary>How long the kernel may take to make /dev/NAME after CUSE_INIT before start-up fails.</summary>
    private static readonly TimeSpan DeviceTimeout = TimeSpan.FromSeconds(30);

    private void WaitForDevice(Action ready)
    {
        // inotify on /dev, armed before the first look, so the node's creation wakes us at once.
        using var created = new ManualResetEventSlim();
        using var watcher = new FileSystemWatcher(_paths.DevDirectory, _paths.Name) { NotifyFilter = NotifyFilters.FileName };
        watcher.Created += (_, _) => created.Set();
        watcher.EnableRaisingEvents = true;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!File.Exists(_paths.DevicePath))
        {
            if (_channel.IsStopping)
                return;
            if (waited.Elapsed > DeviceTimeout)
            {
                Log.Error($"{_paths.DevicePath} did not appear after CUSE_INIT");
                Stop();
                return;
            }
            created.Wait(TimeSpan.FromMilliseconds(250)); // also looks at IsStopping now and then
        }
        if (File.Exists(UdevControlSocket))
        {
            // udev is running: its rule (udev/99-kmonitor.rules) owns the node's group and mode.
            Log.Info($"udev is running: it sets the owner and mode of {_paths.DevicePath} (install udev/99-kmonitor.rules)");
        }
        else
        {
            if (PathCalls.Chown(_paths.DevicePath, 0, (uint)_gid) != 0)
                Log.Warning($"chown {_paths.DevicePath}: {Errno.Describe(Errno.Last)}");
            File.SetUnixFileMode(_paths.DevicePath, (UnixFileMode)_modeBits);
        }
        ready();
    }

    public void Stop() => _channel.Stop();

    /// <summary>Closing /dev/cuse removes the device.</summary>
    public void Dispose() => _channel.Dispose();

    /// <summary>
    /// Whether CUSE can be used: /dev/cuse exists, or loading the module (and making its node, if the
    /// module is in but the node missing) makes it. Returns why not, or null.
    /// </summary>
    public static string? Availability()
    {
        if (File.Exists(CuseControlPath))
            return null;
        if (!Directory.Exists("/sys/module/cuse"))
        {
            try
            {
                using var modprobe = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("modprobe", "cuse")
                {
                    RedirectStandardError = true,
                    RedirectStandardOutput = true,
                });
                modprobe?.WaitForExit(10_000);
            }
            catch (System.ComponentModel.Win32Exception) { } // no modprobe: the check below says so
        }
        if (!Directory.Exists("/sys/module/cuse"))
            return "this kernel has no CUSE (CONFIG_CUSE is not set, or `modprobe cuse` failed)";
        if (!File.Exists(CuseControlPath)
            && PathCalls.MakeCharacterDevice(CuseControlPath, 0x180, major: 10, minor: 203) != 0)
            return $"the cuse module is loaded but {CuseControlPath} is missing and mknod failed: {Errno.Describe(Errno.Last)}";
        return null;
    }
}
