using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Kmonitor.Daemon;

namespace Kmonitor.Tests.Infrastructure;

/// <summary>
/// A real kmonitord on a device name of its own. Disposing stops it with SIGTERM and checks it left
/// nothing behind; a daemon that will not stop is killed and its leftovers removed, so a failing
/// test does not break the next one.
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly SemaphoreSlim _logged = new(0);

    public string Name { get; }
    public DevicePaths Paths { get; }
    public string DevicePath => Paths.DevicePath;
    public int Pid => _process.Id;

    private DaemonProcess(string name, Process process)
    {
        Name = name;
        Paths = new DevicePaths(name);
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            _log.Enqueue(e.Data);
            _logged.Release();
        };
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts the daemon and waits until it says it is ready (the device is usable).</summary>
    public static DaemonProcess Start(params string[] extraArgs) => StartNamed(TestPaths.UniqueName(), extraArgs);

    public static DaemonProcess StartNamed(string name, params string[] extraArgs)
    {
        Root.Require();
        var daemon = Launch(name, extraArgs);
        try
        {
            daemon.WaitForLog("ready:", TimeSpan.FromSeconds(120)); // generous: a loaded machine running the VM under emulation
        }
        catch
        {
            daemon.Dispose();
            throw;
        }
        return daemon;
    }

    /// <summary>Starts the daemon without waiting for anything (for tests of how it fails).</summary>
    public static DaemonProcess Launch(string name, params string[] extraArgs) => Launch(name, new Dictionary<string, string>(), extraArgs);

    /// <summary>Starts the daemon with extra environment variables, without waiting.</summary>
    public static DaemonProcess Launch(string name, IDictionary<string, string> environment, params string[] extraArgs) =>
        LaunchThrough(name, environment, [], extraArgs);

    /// <summary>Starts the daemon through <paramref name="launcher"/> (a program that execs the rest), without waiting.</summary>
    public static DaemonProcess LaunchThrough(string name, IDictionary<string, string> environment, IReadOnlyList<string> launcher, params string[] extraArgs)
    {
        var start = new ProcessStartInfo(launcher.Count > 0 ? launcher[0] : "dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in launcher.Skip(1))
            start.ArgumentList.Add(arg);
        if (launcher.Count > 0)
            start.ArgumentList.Add("dotnet");
        // What the machine has (a systemd session, an installed config, KMONITORD_* settings) must not
        // change a test's daemon: it gets exactly the settings the test gives it.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("KMONITORD_") || k is "NOTIFY_SOCKET" or "WATCHDOG_USEC" or "WATCHDOG_PID" or "JOURNAL_STREAM").ToList())
            start.Environment.Remove(key);
        foreach (var (key, value) in environment)
            start.Environment[key] = value;
        start.ArgumentList.Add(TestPaths.Daemon);
        start.ArgumentList.Add("--config");
        start.ArgumentList.Add(EmptyConfig.Value);
        start.ArgumentList.Add("--name");
        start.ArgumentList.Add(name);
        foreach (var arg in extraArgs)
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start kmonitord");
        process.StandardOutput.Close();
        return new DaemonProcess(name, process);
    }

    private static readonly Lazy<string> EmptyConfig = new(() =>
    {
        string path = Path.Combine(Path.GetTempPath(), "kmonitord-test-config.json");
        File.WriteAllText(path, "{}\n");
        return path;
    });

    public IReadOnlyList<string> Log => [.. _log];

    public string LogText => string.Join("\n", _log);

    /// <summary>Waits for a log line containing <paramref name="text"/>; fails with the log if the daemon exits first.</summary>
    public string WaitForLog(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var line = _log.FirstOrDefault(l => l.Contains(text));
            if (line is not null)
                return line;
            if (_process.HasExited)
            {
                _process.WaitForExit();
                line = _log.FirstOrDefault(l => l.Contains(text));
                if (line is not null)
                    return line;
                throw new InvalidOperationException($"kmonitord exited ({_process.ExitCode}) before logging '{text}':\n{LogText}");
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"kmonitord did not log '{text}' within {timeout}:\n{LogText}");
            _logged.Wait(100);
        }
    }

    /// <summary>The daemon's status report, read from its status socket.</summary>
    public JsonElement Status(bool liveHeap = false) =>
        JsonDocument.Parse(StatusSocket.Query(StatusSocket.PathFor(Paths), liveHeap)).RootElement;

    /// <summary>The daemon's live managed heap, after a full collection it runs for this question.</summary>
    public long LiveHeapBytes => Status(liveHeap: true).GetProperty("live_heap_bytes").GetInt64();

    public int Registrations => Status().GetProperty("registrations").GetInt32();

    /// <summary>"fuse" or "cuse": how this daemon serves its device.</summary>
    public string Mode => Status().GetProperty("mode").GetString()!;

    public long Counter(string name) => Status().GetProperty("counters").GetProperty(name).GetInt64();

    /// <summary>Polls the status until <paramref name="condition"/> holds; fails with the last status.</summary>
    public void WaitForStatus(Func<JsonElement, bool> condition, string what, int timeoutMs = 15000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        JsonElement status;
        while (!condition(status = Status()))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"timed out waiting for {what}; status:\n{status}");
            Thread.Sleep(50);
        }
    }

    public bool HasExited => _process.HasExited;

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
            throw new TimeoutException($"kmonitord did not exit within {timeout}:\n{LogText}");
        _process.WaitForExit(); // drains the log
        return _process.ExitCode;
    }

    public void Signal(int signal) => Posix.Kill(_process.Id, signal);

    /// <summary>SIGTERM, then the exit code.</summary>
    public int Stop()
    {
        Signal(Posix.SIGTERM);
        return WaitForExit(TimeSpan.FromSeconds(20));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Signal(Posix.SIGTERM);
            if (!_process.WaitForExit(TimeSpan.FromSeconds(20)))
                _process.Kill();
        }
        _process.WaitForExit();
        // A daemon that never became ready (refused, or a bad command line) owns nothing on its name:
        // what is there belongs to another daemon a test still uses.
        if (_log.Any(l => l.Contains("ready:")))
            Leftovers.Remove(Paths);
        _process.Dispose();
    }
}

/// <summary>What a daemon that was killed may leave on the machine, and its removal.</summary>
public static class Leftovers
{
    public static List<string> Find(DevicePaths paths)
    {
        var found = new List<string>();
        var link = new FileInfo(paths.DevicePath);
        if (link.Exists || link.LinkTarget is not null)
            found.Add(paths.DevicePath);
        if (File.ReadAllText("/proc/self/mounts").Contains($" {paths.MountPoint} "))
            found.Add($"mount {paths.MountPoint}");
        if (Directory.Exists(paths.MountPoint))
            found.Add(paths.MountPoint);
        if (File.Exists(StatusSocket.PathFor(paths)))
            found.Add(StatusSocket.PathFor(paths));
        return found;
    }

    public static void Remove(DevicePaths paths)
    {
        try { File.Delete(paths.DevicePath); } catch (IOException) { }
        if (File.ReadAllText("/proc/self/mounts").Contains($" {paths.MountPoint} "))
            Posix.Umount(paths.MountPoint);
        try { Directory.Delete(paths.MountPoint); } catch (IOException) { }
        try { File.Delete(StatusSocket.PathFor(paths)); } catch (IOException) { }
    }
}
