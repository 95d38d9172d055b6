using System.Runtime.InteropServices;
using Kmonitor;
using Kmonitor.Daemon;
using Kmonitor.Daemon.Device;
using Kmonitor.Daemon.Handover;
using Kmonitor.Diagnostics;
using Kmonitor.Fuse;

// kmonitord: serves /dev/NAME until SIGTERM or SIGINT. Exit codes: 0 stopped cleanly,
// 1 could not start (the log line says why), 2 bad command line.
// `kmonitord status [--name NAME] [--json]` prints a running daemon's state.
// `kmonitord cleanup [--name NAME] [--unit UNIT]` removes a FUSE mount after `systemctl stop` (ExecStopPost=).

SignalDisposition.RestoreDefault(Tmds.Linux.LibC.SIGINT);

if (args.Length > 0 && args[0] == "status")
    return StatusCommand.Run(args[1..]);
if (args.Length > 0 && args[0] == "cleanup")
    return Kmonitor.Daemon.Handover.StopCleanup.Run(args[1..]); // the unit's ExecStopPost=
if (args.Length == 2 && args[0] == "relay" && int.TryParse(args[1], out int relayFd))
    return Kmonitor.Signals.SignalRelayServer.Run(relayFd); // started by the daemon inside a monitor's pid namespace

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(DaemonOptions.Usage); // even when the config file is broken
    return 0;
}

DaemonOptions options;
try
{
    options = DaemonOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"kmonitord: {e.Message}");
    Console.Error.WriteLine(DaemonOptions.Usage);
    return 2;
}
if (options.Help)
{
    Console.WriteLine(DaemonOptions.Usage);
    return 0;
}
Log.Level = options.LogLevel;
return Daemon.Run(options);

namespace Kmonitor.Daemon
{
    internal static class Daemon
    {
        public static int Run(DaemonOptions options)
        {
            if ((Kmonitor.Interop.Architectures.Unsupported() ?? Privileges.Missing() ?? Privileges.WrongPidNamespace()) is string problem)
            {
                Log.Error(problem);
                return 1;
            }
            IFrontEnd? frontEnd = null;
            KmonitorEngine? engine = null;
            StatusSocket? status = null;
            using var systemd = new SystemdNotifier();
            var registrations = new List<PosixSignalRegistration>();
            // Under systemd a stop may be a restart: with --handover (the default) the device is then
            // handed to the next instance. What a predecessor handed over is taken either way.
            var store = options.Handover ? FdStore.FromEnvironment() : null;
            var listenFds = ListenFds.FromEnvironment();
            bool handingOver = false;
            StateJournal? journal = null;
            try
            {
                var paths = new DevicePaths(options.Name);
                int gid = ResolveGroup(options.Group);
                var takeover = Takeover.Prepare(listenFds, store, paths);
                var serviceOptions = new ServiceOptions(options.Policy, options.MaxPerFile, options.MaxPerUid, RelayCommand(), options.QueueLength);
                engine = new KmonitorEngine(options.BufferLength, options.ReceiveBufferBytes, serviceOptions, takeover?.NetlinkFd ?? -1);
                var restored = takeover is null ? null : Kmonitor.Handover.ServiceRestore.Apply(engine.Service, takeover.State.Service);
                var device = new KmonitorDevice(engine.Service);
                frontEnd = takeover is null ? ChooseFrontEnd(options, paths, device, gid) : AdoptFrontEnd(takeover, options, paths, device, gid);
                if (takeover is not null)
                    ResumeParkedReads(takeover, frontEnd, device, engine.Service);
                if (takeover is not null)
                    StaleDevice.RemoveStaleStatusSocket(paths); // a killed predecessor could not remove it
                string mode = frontEnd.Mode;
                var service = engine.Service;
                var instance = new InstanceInfo(DateTimeOffset.UtcNow, restored?.Files ?? 0, restored?.Registrations ?? 0, restored?.Subscriptions ?? 0);
                status = new StatusSocket(StatusSocket.PathFor(paths), liveHeap => StatusReport.Build(mode, paths.DevicePath, service.Status(), liveHeap, instance));
                if (restored is null)
                    engine.Start();
                else
                    engine.Start(backlog =>
                    {
                        Log.Info($"took over {restored.Files} open files, {restored.Registrations} registrations and {restored.Subscriptions} subscriptions " +
                                 $"({restored.MonitorsGone} dropped: their monitor has gone); {backlog} netlink messages were queued meanwhile");
                        restored.ReportEnded(); // behind the queued events in the ring: an EXIT they hold comes first
                    });

                var stopping = frontEnd;
                foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT })
                {
                    registrations.Add(PosixSignalRegistration.Create(signal, context =>
                    {
                        context.Cancel = true; // we stop on our own terms: unmount and remove the link first
                        // Under systemd a SIGTERM may be a restart: the device goes into the fd store and
                        // stays up; a `systemctl stop` empties the store, which ends it (see README).
                        handingOver = store is not null && context.Signal == PosixSignal.SIGTERM;
                        Log.Info($"received {context.Signal}, {(handingOver ? "handing the device over to the next instance" : "stopping")}");
                        systemd.Notify("STOPPING=1");
                        stopping.Stop();
                    }));
                }
                string filter = engine.UsesEventFilter ? "kernel event filter" : "no kernel event filter (before Linux 6.6)";
                var running = engine;
                var served = frontEnd;
                frontEnd.Run(() =>
                {
                    if (store is not null)
                    {
                        // From here on a SIGKILL loses nothing a monitor was answered: the store has it all.
                        int channelFd = served.Channel.Duplicate();
                        using (var netlink = running.NetlinkSocket.Borrow())
                            journal = StateJournal.Start(store, takeover is not null, channelFd, netlink.Number,
                                () => HandingOver.Capture(running, served, device, paths));
                        Tmds.Linux.LibC.close(channelFd);
                        if (journal is not null)
                            device.StateChanged = journal.Update;
                    }
                    Log.Info($"ready: {frontEnd.Description}; pid {Environment.ProcessId}, ring {options.BufferLength} events, " +
                             $"netlink buffer {engine.ReceiveBufferBytes} bytes, {filter}");
                    systemd.Notify("READY=1");
                    systemd.StartWatchdog(running.IsDispatching);
                });
                if (handingOver && !HandingOver.Run(store!, engine, frontEnd, device, paths, journal))
                    Log.Warning("the fd store refused the device: stopping it instead");
                Log.Info($"stopped; {engine.Service.Counters}");
                return 0;
            }
            catch (KmonitorException e)
            {
                Log.Error(e.Message);
                return 1;
            }
            catch (FuseException e)
            {
                Log.Error(e.Message); // /dev/fuse or /dev/cuse could not be opened
                return 1;
            }
            finally
            {
                foreach (var registration in registrations)
                    registration.Dispose();
                frontEnd?.Dispose();
                journal?.Dispose();
                status?.Dispose();
                engine?.Dispose();
            }
        }

        /// <summary>The front end of the mode the previous instance served in, on its channel.</summary>
        private static IFrontEnd AdoptFrontEnd(Takeover takeover, DaemonOptions options, DevicePaths paths, KmonitorDevice device, int gid) =>
            takeover.State.Mode == "cuse"
                ? new CuseFrontEnd(paths, device, takeover.Channel, takeover.State.NegotiatedMinor, options.Major, options.Minor)
                : new FuseMountFrontEnd(paths, device, options.ModeBits, gid, takeover.Channel, takeover.State.NegotiatedMinor);

        /// <summary>The reads the previous instance had parked: the kernel still waits for their answers.</summary>
        private static void ResumeParkedReads(Takeover takeover, IFrontEnd frontEnd, KmonitorDevice device, KmonitorService service)
        {
            foreach (var read in takeover.State.ParkedReads)
            {
                var reply = frontEnd.Session.AdoptRead(read.Unique);
                if (service.Files.Find(read.Fh) is { } file)
                    device.ParkedReads.ReadOrPark(file, read.BufferBytes, reply);
                else
                    reply.Error(Kmonitor.Interop.Errno.EBADF);
            }
        }

        private static IFrontEnd ChooseFrontEnd(DaemonOptions options, DevicePaths paths, KmonitorDevice device, int gid)
        {
            switch (options.Mode)
            {
                case FrontEndMode.Fuse:
                    return new FuseMountFrontEnd(paths, device, options.ModeBits, gid);
                case FrontEndMode.Cuse:
                    if (CuseFrontEnd.Availability() is string why)
                        throw new KmonitorException($"--mode cuse: {why}; use --mode fuse");
                    return new CuseFrontEnd(paths, device, options.ModeBits, gid, options.Major, options.Minor);
                default:
                    if (CuseFrontEnd.Availability() is string reason)
                    {
                        Log.Info($"mode auto: using FUSE, because {reason}");
                        return new FuseMountFrontEnd(paths, device, options.ModeBits, gid);
                    }
                    Log.Info($"mode auto: using CUSE, because {CuseFrontEnd.CuseControlPath} is available");
                    return new CuseFrontEnd(paths, device, options.ModeBits, gid, options.Major, options.Minor);
            }
        }

        /// <summary>How to start this program again in relay mode: the apphost, or `dotnet kmonitord.dll`.</summary>
        private static string[] RelayCommand()
        {
            string host = Environment.ProcessPath ?? "/proc/self/exe";
            string assembly = typeof(Daemon).Assembly.Location;
            return Path.GetFileNameWithoutExtension(host) == "dotnet" ? [host, assembly, "relay"] : [host, "relay"];
        }

        private static int ResolveGroup(string? group)
        {
            if (string.IsNullOrEmpty(group) || group == "root")
                return 0;
            if (int.TryParse(group, out int numeric))
                return numeric;
            if (SystemGroups.FindGid(group) is int gid)
                return gid;
            if (group == "kmonitor")
            {
                Log.Info("group 'kmonitor' does not exist: the device is root:root (create the group to let its members in)");
                return 0;
            }
            throw new KmonitorException($"--group: no group named '{group}' in /etc/group");
        }
    }
}
