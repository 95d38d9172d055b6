// wait_on_pid (C#): waits until a process exits, told by kmonitord through /dev/kmonitor.
//
//   dotnet wait_on_pid.dll PID [DEVICE]
//
// The C sample of the 2004 documentation uses SIGRTMIN. A .NET program cannot: the runtime keeps
// SIGRTMIN (34) for itself, and it terminates the process on any real-time signal it has no
// handler for. So this sample asks for SIGRTMIN+1 and installs its handler (UnixSignal) *before*
// registering, so the first notification already has somewhere to go.
using System.Runtime.InteropServices;
using Kmonitor.Samples.WaitOnPid;
using Mono.Unix;
using Mono.Unix.Native;

if (args.Length is < 1 or > 2 || !int.TryParse(args[0], out int pid) || pid <= 0)
{
    Console.Error.WriteLine("usage: wait_on_pid PID [DEVICE]");
    return 2;
}
string device = args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable("KMONITOR_DEVICE") ?? "/dev/kmonitor";

var notification = new RealTimeSignum(1); // SIGRTMIN + 1
using var exited = new UnixSignal(notification);

using var file = File.OpenHandle(device, FileMode.Open, FileAccess.Write);
var cmd = new KmonitorCmd(pid, KmonitorCmd.KMONITOR_PROCESS_EXIT, KmonitorIoctl.RealTimeSignalNumber(notification));
if (KmonitorIoctl.Register(file, cmd) is int errno and not 0)
{
    Console.Error.WriteLine($"wait_on_pid: KMONITOR_IOW_REGISTER {pid}: {Marshal.GetPInvokeErrorMessage(errno)}");
    return 1;
}

// UnixSignal counts every signal, even one that comes before the wait; but its wait only hears of
// a signal through a pipe it sets up inside the wait, so one that lands earlier (the target may
// exit the moment REGISTER returns) is counted and never wakes it. So: look at the count, and sleep
// in UnixSignal.WaitAny between looks. (Not WaitOne(int): on .NET that is WaitHandle's own, which
// knows nothing of UnixSignal.) Closing the file (at exit) drops the registration.
while (!exited.IsSet)
    UnixSignal.WaitAny([exited], 250);
Console.WriteLine($"{pid} exited");
return 0;
