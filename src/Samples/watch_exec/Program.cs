// watch_exec [NAME]: prints "running PID NAME" for each process of that name already running,
// then "started PID NAME" at each exec and "stopped PID NAME exited 3" (or "killed by SIGTERM")
// at each exit, until Ctrl-C or SIGTERM. Without NAME, every process the caller may watch.
// The device is /dev/kmonitor, or $KMONITOR_DEVICE.
using System.Runtime.InteropServices;
using Kmonitor.Client;

string? name = args.Length switch
{
    0 => null,
    1 when args[0] is not ("-h" or "--help") => args[0],
    _ => null,
};
if (args.Length > 1 || args is ["-h" or "--help"])
{
    Console.Error.WriteLine("usage: watch_exec [NAME]");
    return 2;
}

using var stop = new ManualResetEventSlim();
using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Set(); });
using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Set(); });

try
{
    using var monitor = new ProcessMonitor();
    monitor.Error += error =>
    {
        Console.Error.WriteLine($"watch_exec: {error.Message}");
        stop.Set();
    };
    monitor.EventsLost += count => Console.Error.WriteLine($"watch_exec: {count} events lost");
    using var started = monitor.SubscribeExec(e =>
        Console.WriteLine($"{(e.Kind == ProcessEventKind.Existing ? "running" : "started")} {e.Pid} {e.Name}"), name);
    using var stopped = monitor.SubscribeExit(e => Console.WriteLine($"stopped {e.Pid} {e.Name} {e.DescribeStatus()}"), name);
    monitor.Initialize(); // "running" lines first, then every start and stop
    stop.Wait();
    return 0;
}
catch (KmonitorException e)
{
    Console.Error.WriteLine($"watch_exec: {e.Message}");
    return 1;
}
