using Kmonitor.Daemon.Device;
using Kmonitor.Diagnostics;
using Kmonitor.Fuse;
using Kmonitor.Fuse.Channel;
using Kmonitor.Fuse.FileSystem;
using Kmonitor.Interop;

namespace Kmonitor.Daemon;

/// <summary>
/// FUSE mode: a one-file FUSE mount at /run/kmonitor/NAME, mounted with mount(2) directly, and
/// /dev/NAME a symbolic link to its file. Used where the kernel has no CUSE.
/// </summary>
public sealed class FuseMountFrontEnd : IFrontEnd
{
    private readonly DevicePaths _paths;
    private readonly FuseChannel _channel;
    private readonly FuseSession _session;
    private bool _mounted;
    private bool _linked;
    private bool _handedOver;
    private readonly bool _adopted;

    public string Mode => "fuse";
    public FuseSession Session => _session;
    public FuseChannel Channel => _channel;
    public void HandOver() => _handedOver = true;

    /// <summary>
    /// A takeover: the mount and the link are the previous instance's, still alive, and
    /// <paramref name="channel"/> its connection, on which the kernel sends no INIT again.
    /// </summary>
    public FuseMountFrontEnd(DevicePaths paths, KmonitorDevice device, uint modeBits, int gid, FuseChannel channel, uint negotiatedMinor)
    {
        _paths = paths;
        _channel = channel;
        _adopted = true;
        _mounted = true;
        _linked = true;
        var fileSystem = new OneFileFileSystem(DevicePaths.MountedFileName, modeBits, 0, (uint)gid, KmonitorDevice.OpenFlags, device);
        _session = FuseSession.ForMount(_channel, fileSystem, FuseLogging.ToDaemonLog);
        _session.ResumeInitialized(negotiatedMinor);
        device.ServeThrough(_session);
    }

    public string Description => $"{_paths.DevicePath} -> {_paths.MountedFile} (fuse)";

    public FuseMountFrontEnd(DevicePaths paths, KmonitorDevice device, uint modeBits, int gid)
    {
        _paths = paths;
        StaleDevice.CleanUp(paths);
        _channel = FuseChannel.Open("/dev/fuse");
        try
        {
            Directory.CreateDirectory(paths.MountPoint);
            // allow_other: monitors of every user reach the file; default_permissions: the kernel
            // checks the file's owner and mode bits for each of them, so the daemon need not.
            string data = $"fd={_channel.Fd},rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions";
            if (PathCalls.MountFuse("kmonitord", paths.MountPoint, "fuse.kmonitord", data) != 0)
                throw KmonitorException.FromErrno($"mount fuse on {paths.MountPoint}", Errno.Last);
            _mounted = true;
            // OPENDIR answers with the device's flags too, as it always has.
            var fileSystem = new OneFileFileSystem(DevicePaths.MountedFileName, modeBits, 0, (uint)gid, KmonitorDevice.OpenFlags, device);
            _session = FuseSession.ForMount(_channel, fileSystem, FuseLogging.ToDaemonLog);
            device.ServeThrough(_session);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Serves until stopped; the link is made once the loop is about to answer requests.</summary>
    public int Run(Action ready)
    {
        try
        {
            if (!_adopted || new FileInfo(_paths.DevicePath).LinkTarget is null)
                File.CreateSymbolicLink(_paths.DevicePath, _paths.MountedFile);
        }
        catch (IOException e)
        {
            throw new KmonitorException($"cannot create {_paths.DevicePath}: {e.Message}");
        }
        _linked = true;
        ready();
        return _session.Run();
    }

    public void Stop() => _channel.Stop();

    /// <summary>
    /// Closes /dev/fuse first, which aborts the connection: from that moment monitors still attached
    /// get ENOTCONN and the mount is recognisably dead, so a stop cut short at any later step (a
    /// SIGKILL, the end of `dotnet run`) leaves only what the next start cleans up. Then unmounts,
    /// then removes the link.
    /// </summary>
    public void Dispose()
    {
        _channel.Dispose();
        if (_handedOver)
            return;
        if (_mounted)
        {
            if (PathCalls.Detach(_paths.MountPoint) != 0)
                Log.Warning($"unmounting {_paths.MountPoint}: {Errno.Describe(Errno.Last)}");
            _mounted = false;
        }
        if (_linked)
        {
            try { File.Delete(_paths.DevicePath); }
            catch (IOException e) { Log.Warning($"removing {_paths.DevicePath}: {e.Message}"); }
            _linked = false;
        }
        try { Directory.Delete(_paths.MountPoint); }
        catch (IOException) { } // still busy: a detached mount goes when its last user closes the file
    }
}
