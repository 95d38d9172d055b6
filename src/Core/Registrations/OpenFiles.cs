using System.Collections.Concurrent;
using Kmonitor.Diagnostics;
using Kmonitor.Exits;

namespace Kmonitor.Registrations;

/// <summary>
/// The open files of the device and their monitors: opening and closing files, finding or opening a
/// file's monitor, and dropping a monitor that has exited. Nothing here makes a system call while
/// it holds a file's lock.
/// </summary>
public sealed class OpenFiles(RegistrationTable table, ProcessWatcher watcher, ExitReporter exits, int queueLength = ServiceOptions.DefaultQueueLength)
{
    private readonly ConcurrentDictionary<ulong, DeviceFile> _files = new();

    /// <summary>
    /// Told of the subscriptions a close or a monitor's exit has taken out of their file, to end them
    /// (the <see cref="Subscriptions.Subscriber"/>, which needs this class in turn: hence a callback).
    /// </summary>
    public Action<IReadOnlyList<Subscriptions.Subscription>>? SubscriptionsEnded { get; set; }
    private long _nextHandle;

    /// <summary>Opens a new file of the device.</summary>
    public DeviceFile Open()
    {
        var file = new DeviceFile((ulong)Interlocked.Increment(ref _nextHandle), queueLength);
        _files[file.Handle] = file;
        return file;
    }

    /// <summary>A file the previous instance opened, under the handle the kernel knows it by.</summary>
    public DeviceFile Adopt(ulong handle)
    {
        var file = new DeviceFile(handle, queueLength);
        _files[handle] = file;
        return file;
    }

    /// <summary>After a takeover: new handles continue after the previous instance's, never reusing one.</summary>
    public void AdoptedUpTo(ulong lastHandle)
    {
        foreach (var handle in _files.Keys.Append(lastHandle))
        {
            if ((long)handle > Interlocked.Read(ref _nextHandle))
                Interlocked.Exchange(ref _nextHandle, (long)handle);
        }
    }

    /// <summary>The last handle given.</summary>
    public ulong LastHandle => (ulong)Interlocked.Read(ref _nextHandle);

    /// <summary>Every open file now.</summary>
    public IReadOnlyList<DeviceFile> All() => [.. _files.Values];

    /// <summary>The open file with this handle, if it is still open.</summary>
    public DeviceFile? Find(ulong handle) => _files.TryGetValue(handle, out var file) ? file : null;

    /// <summary>Files open now.</summary>
    public int Count => _files.Count;

    /// <summary>The last close of a file: everything it registered goes, and so do its monitors.</summary>
    public void Close(DeviceFile file)
    {
        var removed = new List<Registration>();
        MonitorProcess[] monitors;
        Subscriptions.Subscription[] subscriptions;
        lock (file.Gate)
        {
            // Out of the table before out of the file's index, and the file out of the open files
            // last: the status report never shows a registration gone that can still be notified.
            file.Closed = true;
            foreach (var registration in file.ByTarget.Values)
            {
                if (table.Remove(registration))
                    removed.Add(registration);
            }
            monitors = [.. file.Monitors.Values];
            foreach (var monitor in monitors)
                monitor.Dropped = true;
            file.ByTarget.Clear();
            file.Monitors.Clear();
            file.Callers.Clear();
            subscriptions = [.. file.Subscriptions.Values];
            file.Subscriptions.Clear();
        }
        SubscriptionsEnded?.Invoke(subscriptions);
        _files.TryRemove(file.Handle, out _);
        foreach (var registration in removed)
            exits.Retire(registration);
        foreach (var monitor in monitors)
            Forget(monitor);
    }

    /// <summary>
    /// The file's monitor for process <paramref name="tgid"/>, opening and watching its pidfd the
    /// first time; 0, or the errno for REGISTER (ESRCH: the process is gone; EBADF: the file was closed).
    /// </summary>
    /// <param name="pidNamespace">Its pid namespace, when <paramref name="namespaceDepth"/> is not 0.</param>
    public int MonitorFor(DeviceFile file, int tgid, int namespaceDepth, ulong pidNamespace, out MonitorProcess monitor)
    {
        MonitorProcess? cached;
        lock (file.Gate)
        {
            if (file.Closed)
            {
                monitor = null!;
                return Interop.Errno.EBADF;
            }
            file.Monitors.TryGetValue(tgid, out cached);
        }
        if (cached is not null)
        {
            if (cached.IsAlive)
            {
                monitor = cached;
                return 0;
            }
            DropMonitor(cached); // a dead process whose pid came back: the new one inherits nothing
        }
        int error = MonitorProcess.TryOpen(tgid, file, namespaceDepth, pidNamespace, out var opened);
        if (error != 0)
        {
            monitor = null!;
            return error;
        }
        // Watched before anyone can find it, so a drop always comes after the watch.
        watcher.WatchMonitor(opened!);
        MonitorProcess? other = null;
        lock (file.Gate)
        {
            if (file.Closed)
                error = Interop.Errno.EBADF;
            else if (file.Monitors.TryGetValue(tgid, out other) && !other.Dropped)
                error = -1; // another thread of the process got here first: use its monitor
            else if (opened!.Dropped)
                error = Interop.Errno.ESRCH; // it exited at once, and was dropped already
            else
                file.Monitors[tgid] = opened;
        }
        if (error == 0)
        {
            monitor = opened!;
            return 0;
        }
        Forget(opened!);
        monitor = other!;
        return error == -1 ? 0 : error;
    }

    /// <summary>A monitor process has exited: everything it registered goes, and its pidfd closes.</summary>
    public void DropMonitor(MonitorProcess monitor)
    {
        var file = monitor.File;
        var dropped = new List<Registration>();
        var removed = new List<Registration>();
        var ended = new List<Subscriptions.Subscription>();
        lock (file.Gate)
        {
            if (monitor.Dropped)
                return;
            monitor.Dropped = true;
            // Its subscriptions end with it, as its registrations do.
            foreach (var subscription in file.Subscriptions.Values)
            {
                if (subscription.Monitor == monitor)
                    ended.Add(subscription);
            }
            foreach (var subscription in ended)
                file.Subscriptions.Remove(subscription.Id);
            foreach (var registration in file.ByTarget.Values)
            {
                if (registration.Monitor == monitor)
                    dropped.Add(registration);
            }
            // Out of the table while the file's index still holds them, as Close does.
            foreach (var registration in dropped)
            {
                if (table.Remove(registration))
                    removed.Add(registration);
                file.ByTarget.Remove(registration.Target);
            }
            if (file.Monitors.TryGetValue(monitor.Tgid, out var current) && current == monitor)
                file.Monitors.Remove(monitor.Tgid);
            foreach (var (tid, caller) in file.Callers)
            {
                if (caller.Monitor == monitor)
                    file.Callers.Remove(tid); // allowed while enumerating a Dictionary since .NET Core 3.0
            }
        }
        foreach (var registration in removed)
            exits.Retire(registration);
        SubscriptionsEnded?.Invoke(ended);
        Forget(monitor);
        if (dropped.Count > 0 && Log.IsEnabled(LogLevel.Debug))
            Log.Debug($"{monitor} has exited: dropped its {dropped.Count} registrations");
    }

    /// <summary>Stops watching a monitor and closes its pidfd; it holds nothing any more.</summary>
    private void Forget(MonitorProcess monitor)
    {
        watcher.UnwatchMonitor(monitor);
        monitor.Dispose();
    }

    /// <summary>Every monitor process of every open file, with how many registrations it holds now.</summary>
    public List<MonitorSummary> Monitors()
    {
        var summaries = new List<MonitorSummary>();
        foreach (var file in _files.Values)
        {
            lock (file.Gate)
            {
                foreach (var monitor in file.Monitors.Values)
                    summaries.Add(new MonitorSummary(monitor.Tgid, file.Handle, file.ByTarget.Values.Count(r => r.Monitor == monitor), monitor.QueueFullDrops));
            }
        }
        return summaries;
    }
}

/// <summary>One monitor process as the status report shows it.</summary>
public readonly record struct MonitorSummary(int Pid, ulong File, int Registrations, long DroppedQueueFull);
