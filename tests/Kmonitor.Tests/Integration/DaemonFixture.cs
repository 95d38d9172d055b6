using Kmonitor.Tests.Infrastructure;

namespace Kmonitor.Tests.Integration;

/// <summary>One daemon shared by the tests of a class (they run one after another).</summary>
public sealed class DaemonFixture : IDisposable
{
    // Debug level: a failing test's message can show every notification the daemon sent.
    public DaemonProcess Daemon { get; } = DaemonProcess.Start("--log-level", "debug");

    public void Dispose() => Daemon.Dispose();
}

/// <summary>Helpers the integration tests share: a monitor with the device open, and "nothing else came" checks.</summary>
public abstract class DeviceTest(DaemonFixture fixture) : IDisposable
{
    private readonly List<IDisposable> _owned = [];

    protected DaemonProcess Daemon => fixture.Daemon;

    protected T Own<T>(T disposable) where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    /// <summary>A kmclient with the device open.</summary>
    protected (KmClient Client, int Fd) Monitor()
    {
        var client = Own(new KmClient());
        return (client, client.Open(Daemon.DevicePath));
    }

    protected KmTarget Target(string? runAs = null) => Own(new KmTarget(runAs));

    /// <summary>
    /// Proves that no notification is queued before a marker: registers PROCESS_EXIT on a fresh
    /// process, ends it, and checks that the next notification is that exit. The dispatcher handles
    /// events in order, so anything sent for earlier events would have arrived first.
    /// </summary>
    protected void AssertNothingQueued(KmClient client, int fd)
    {
        using var marker = new KmTarget();
        client.RegisterOk(fd, marker.Pid, Abi.KmonitorAbi.KMONITOR_PROCESS_EXIT);
        marker.Exit(0);
        var next = client.Expect();
        Assert.True(next.Pid == marker.Pid && next.Int == Abi.KmonitorAbi.KMONITOR_PROCESS_EXIT,
            $"expected nothing before the marker's exit, but got {next}");
    }

    public void Dispose()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
            _owned[i].Dispose();
    }
}
