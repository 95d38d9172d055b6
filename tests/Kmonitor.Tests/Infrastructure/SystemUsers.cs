using System.Diagnostics;

namespace Kmonitor.Tests.Infrastructure;

/// <summary>Users and groups the access tests need, created on first use (idempotent; CI runs as root).</summary>
public static class SystemUsers
{
    public const string DeviceGroup = "kmonitor";
    public const string Member = "kmtest-member";     // in the kmonitor group
    public const string Outsider = "kmtest-outsider"; // not in it

    private static readonly Lazy<bool> Created = new(() =>
    {
        Root.Require();
        Run("groupadd", "-f", "--system", DeviceGroup);
        foreach (var user in new[] { Member, Outsider })
        {
            if (Exec("id", user) != 0)
                Run("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user);
        }
        Run("usermod", "-a", "-G", DeviceGroup, Member);
        return true;
    });

    public static void Ensure() => _ = Created.Value;

    public static uint Uid(string user)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var fields = line.Split(':');
            if (fields[0] == user)
                return uint.Parse(fields[2]);
        }
        throw new InvalidOperationException($"no user {user}");
    }

    private static void Run(string program, params string[] args)
    {
        if (Exec(program, args) is int code and not 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited with {code} (it is in the passwd package)");
    }

    private static int Exec(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        process.StandardOutput.ReadToEnd();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode;
    }
}
