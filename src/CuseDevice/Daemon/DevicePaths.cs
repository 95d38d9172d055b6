namespace Kmonitor.Daemon;

/// <summary>Where a device called NAME lives: /dev/NAME, and in FUSE mode the mount it points into.</summary>
public sealed record DevicePaths(string Name, string DevDirectory = "/dev", string RunDirectory = "/run/kmonitor")
{
    public string DevicePath => Path.Combine(DevDirectory, Name);
    public string MountPoint => Path.Combine(RunDirectory, Name);
    public const string MountedFileName = "device";
    public string MountedFile => Path.Combine(MountPoint, MountedFileName);
}
