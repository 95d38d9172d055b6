namespace Kmonitor.Daemon;

/// <summary>How /dev/NAME is served: a FUSE mount with a link, or a CUSE character device.</summary>
public interface IFrontEnd : IDisposable
{
    /// <summary>A line for the log: the device and how it is served.</summary>
    string Description { get; }

    /// <summary>Serves requests until <see cref="Stop"/>; calls <paramref name="ready"/> once the device is usable.</summary>
    int Run(Action ready);

    void Stop();
}
