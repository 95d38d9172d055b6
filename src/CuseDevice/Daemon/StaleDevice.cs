using System.Net.Sockets;
using Kmonitor.Diagnostics;
using Kmonitor.Interop;

namespace Kmonitor.Daemon;

/// <summary>
/// Before serving: /dev/NAME must be free. A live kmonitord on the same name is refused; what a
/// killed daemon left behind (a dead FUSE mount, the link into it, its status socket), whichever step
/// of its stop it reached, is removed with one warning line each; anything else is refused rather
/// than taken over.
/// </summary>
public static class StaleDevice
{
    /// <summary>How long a mounted daemon may take to answer before it counts as alive but wedged.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    public static void CleanUp(DevicePaths paths)
    {
        if (Directory.Exists($"/sys/class/cuse/{paths.Name}"))
            throw new KmonitorException($"{paths.DevicePath} is already served by a running kmonitord (CUSE device {paths.Name})");
        bool linked = IsOurLink(paths);
        if (IsMountPoint(paths.MountPoint))
            UnmountIfDead(paths, linked);
        if (linked)
        {
            Log.Warning($"cleaning up after a kmonitord that did not stop: removing the stale link {paths.DevicePath}");
            File.Delete(paths.DevicePath);
        }
        RemoveStaleStatusSocket(paths);
    }

    /// <summary>Whether /dev/NAME is a link into our mount; throws when it is something else.</summary>
    private static bool IsOurLink(DevicePaths paths)
    {
        var device = new FileInfo(paths.DevicePath);
        if (!device.Exists && device.LinkTarget is null && !Directory.Exists(paths.DevicePath))
            return false;
        if (device.LinkTarget != paths.MountedFile)
            throw new KmonitorException($"{paths.DevicePath} already exists and is not a kmonitord device of ours; refusing to take it over (remove it, or choose another --name)");
        return true;
    }

    private static void UnmountIfDead(DevicePaths paths, bool linked)
    {
        switch (FuseMountProbe.Probe(paths.MountPoint, ProbeTimeout))
        {
            case FuseMountState.Served when linked:
                throw new KmonitorException($"{paths.DevicePath} is already served by a running kmonitord");
            case FuseMountState.Served:
                throw new KmonitorException($"{paths.MountPoint} is mounted and serving but {paths.DevicePath} is missing; stop the other kmonitord first");
            case FuseMountState.NotAnswering:
                throw new KmonitorException($"{paths.MountPoint} is mounted and its kmonitord is alive but did not answer within {ProbeTimeout.TotalSeconds:0} s (stopping, stopped or wedged); stop it first");
        }
        Log.Warning($"cleaning up after a kmonitord that did not stop: unmounting its dead mount {paths.MountPoint}");
        if (PathCalls.Detach(paths.MountPoint) != 0)
            throw KmonitorException.FromErrno($"unmount stale {paths.MountPoint}", Errno.Last);
    }

    /// <summary>A status socket nobody listens on is a leftover; one that answers belongs to a live daemon.</summary>
    internal static void RemoveStaleStatusSocket(DevicePaths paths)
    {
        string path = StatusSocket.PathFor(paths);
        if (!File.Exists(path))
            return;
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                socket.Connect(new UnixDomainSocketEndPoint(path));
                throw new KmonitorException($"{path} is answered by a running kmonitord on the name {paths.Name}; stop it first");
            }
            catch (SocketException) { } // refused: nobody listens
        }
        Log.Warning($"cleaning up after a kmonitord that did not stop: removing its status socket {path}");
        File.Delete(path);
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
