using Kmonitor.Daemon.Interop;
using Kmonitor.Diagnostics;
using Kmonitor.Interop;

namespace Kmonitor.Daemon;

/// <summary>
/// Before serving: /dev/NAME must be free. What a killed daemon left behind (a link into a dead
/// FUSE mount) is cleaned up; anything else is refused rather than taken over.
/// </summary>
public static class StaleDevice
{
    public static void CleanUp(DevicePaths paths)
    {
        var device = new FileInfo(paths.DevicePath);
        bool deviceExists = device.Exists || device.LinkTarget is not null || Directory.Exists(paths.DevicePath);
        if (Directory.Exists($"/sys/class/cuse/{paths.Name}"))
            throw new KmonitorException($"{paths.DevicePath} is already served by a running kmonitord (CUSE device {paths.Name})");
        if (deviceExists)
        {
            if (device.LinkTarget != paths.MountedFile)
                throw new KmonitorException($"{paths.DevicePath} already exists and is not a kmonitord device of ours; refusing to take it over (remove it, or choose another --name)");
            if (Mounts.access(paths.MountedFile, Mounts.F_OK) == 0)
                throw new KmonitorException($"{paths.DevicePath} is already served by a running kmonitord");
        }
        if (IsMountPoint(paths.MountPoint))
        {
            if (Mounts.access(paths.MountPoint, Mounts.F_OK) == 0 && !deviceExists)
                throw new KmonitorException($"{paths.MountPoint} is mounted and serving but {paths.DevicePath} is missing; stop the other kmonitord first");
            Log.Warning($"cleaning up after a kmonitord that did not stop: unmounting {paths.MountPoint}");
            if (Mounts.umount2(paths.MountPoint, Mounts.MNT_DETACH) != 0)
                throw KmonitorException.FromErrno($"unmount stale {paths.MountPoint}", Errno.Last);
        }
        if (deviceExists)
        {
            Log.Warning($"removing stale link {paths.DevicePath}");
            File.Delete(paths.DevicePath);
        }
    }

    private static bool IsMountPoint(string path)
    {
        foreach (var line in File.ReadLines("/proc/self/mounts"))
        {
            var fields = line.Split(' ');
            if (fields.Length > 1 && fields[1] == path)
                return true;
        }
        return false;
    }
}
