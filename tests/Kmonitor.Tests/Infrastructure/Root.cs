namespace Kmonitor.Tests.Infrastructure;

/// <summary>
/// The integration tests need root (mount, netlink connector, signalling other users). Without it
/// they fail with this message rather than skip: a skipped test proves nothing.
/// </summary>
public static class Root
{
    public static void Require()
    {
        if (Environment.UserName != "root" && !File.ReadAllText("/proc/self/status").Contains("\nUid:\t0\t"))
            throw new InvalidOperationException("these tests need root: they mount FUSE, listen to the netlink process connector and signal other users' processes (CI runs them as root)");
        if (!File.Exists("/dev/fuse"))
            throw new InvalidOperationException("/dev/fuse is missing: load the fuse module (modprobe fuse)");
    }
}
