using Kmonitor.Fuse;
using Kmonitor.Fuse.Channel;

namespace Kmonitor.Daemon;

/// <summary>How /dev/NAME is served: a FUSE mount with a link, or a CUSE character device.</summary>
public interface IFrontEnd : IDisposable
{
    /// <summary>A line for the log: the device and how it is served.</summary>
    string Description { get; }

    /// <summary>Serves requests until <see cref="Stop"/>; calls <paramref name="ready"/> once the device is usable.</summary>
    int Run(Action ready);

    void Stop();

    /// <summary>"fuse" or "cuse".</summary>
    string Mode { get; }

    FuseSession Session { get; }

    FuseChannel Channel { get; }

    /// <summary>
    /// The device now belongs to the next instance (its channel is in systemd's store): Dispose closes
    /// only this process's descriptor, and leaves the mount, the link or the device node in place.
    /// </summary>
    void HandOver();
}
