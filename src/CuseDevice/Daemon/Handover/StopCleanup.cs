using System.Diagnostics;
using Kmonitor.Interop;

namespace Kmonitor.Daemon.Handover;

/// <summary>
/// `kmonitord cleanup [--name NAME] --unit UNIT`, the unit's ExecStopPost=. At SIGTERM the daemon
/// cannot tell `systemctl stop` from a restart, so under systemd it always hands the device over.
/// In CUSE mode that is enough: a stop empties the fd store, which closes the channel, which ends
/// the device. A FUSE mount and its link would stay (dead) until the next start; this removes them
/// when the unit's job is a stop, and leaves them for a restart (systemd 252 runs ExecStopPost=
/// inside the job, which `systemctl list-jobs` shows as "stop" or "restart") or an automatic
/// restart after a failure (no job; $SERVICE_RESULT is not "success").
/// </summary>
public static class StopCleanup
{
    public static int Run(string[] args)
    {
        string name = "kmonitor", unit = "kmonitord.service";
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--name" when i + 1 < args.Length: name = args[++i]; break;
                case "--unit" when i + 1 < args.Length: unit = args[++i]; break;
                default:
                    Console.Error.WriteLine($"kmonitord cleanup: unknown option '{args[i]}'\nusage: kmonitord cleanup [--name NAME] [--unit UNIT]");
                    return 2;
            }
        }
        string jobs = ListJobs();
        if (!IsFinalStop(Environment.GetEnvironmentVariable("SERVICE_RESULT"), jobs, unit))
            return 0;
        var paths = new DevicePaths(name);
        if (File.ReadAllText("/proc/self/mounts").Contains($" {paths.MountPoint} ") && PathCalls.Detach(paths.MountPoint) != 0)
            Console.Error.WriteLine($"kmonitord cleanup: unmounting {paths.MountPoint}: {Errno.Describe(Errno.Last)}");
        if (new FileInfo(paths.DevicePath).LinkTarget == paths.MountedFile)
            File.Delete(paths.DevicePath);
        try { Directory.Delete(paths.MountPoint); } catch (IOException) { }
        return 0;
    }

    /// <summary>
    /// Whether this ExecStopPost= ends the service for good: it stopped cleanly (a failure may be
    /// followed by Restart=), and the job running on the unit is a stop, not a restart.
    /// </summary>
    /// <param name="listJobs">`systemctl list-jobs --no-legend --plain`: "ID UNIT TYPE STATE" lines.</param>
    public static bool IsFinalStop(string? serviceResult, string listJobs, string unit)
    {
        if (serviceResult is not null && serviceResult != "success")
            return false;
        foreach (var line in listJobs.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 3 && fields[1] == unit)
                return fields[2] == "stop";
        }
        return false; // no job: nobody asked for a stop (a crash's leftovers are the next start's)
    }

    private static string ListJobs()
    {
        try
        {
            using var systemctl = Process.Start(new ProcessStartInfo("systemctl", "list-jobs --no-legend --plain")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (systemctl is null)
                return "";
            string output = systemctl.StandardOutput.ReadToEnd();
            systemctl.WaitForExit(10_000);
            return output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }
}
