using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Kmonitor.Tests.Infrastructure;

/// <summary>
/// Runs code in this process on a thread of its own that has become another user, with no
/// capabilities: the raw setresuid/setresgid/setgroups system calls change only the calling thread
/// (glibc's wrappers would change every thread of the process). The daemon judges each request by
/// the calling thread (the FUSE header's uid, /proc/TID/status), so the library under test runs
/// exactly as it would in an unprivileged program. The thread ends afterwards, its credentials with it.
/// </summary>
public static partial class ThreadAsUser
{
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall3(long number, long a, long b, long c);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long syscall2(long number, long a, nint b);

    private static (long SetGroups, long SetResUid, long SetResGid) Numbers => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => (116, 117, 119),
        Architecture.Arm64 => (159, 147, 149),
        var other => throw new PlatformNotSupportedException($"no system call numbers for {other}"),
    };

    /// <summary>Runs <paramref name="action"/> as <paramref name="user"/>, with that user's groups or with none.</summary>
    public static T Run<T>(string user, bool withUserGroups, Func<T> action)
    {
        SystemUsers.Ensure();
        var (uid, gid) = Ids(user);
        uint[] groups = withUserGroups ? GroupsOf(user) : [];
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Become(uid, gid, groups);
                result = action();
            }
            catch (Exception ex)
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
        });
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    private static unsafe void Become(uint uid, uint gid, uint[] groups)
    {
        var n = Numbers;
        fixed (uint* list = groups)
            Check(syscall2(n.SetGroups, groups.Length, (nint)list), "setgroups");
        Check(syscall3(n.SetResGid, gid, gid, gid), "setresgid");
        Check(syscall3(n.SetResUid, uid, uid, uid), "setresuid"); // all three non-zero: the thread's capabilities are cleared
    }

    private static void Check(long result, string call)
    {
        if (result != 0)
            throw new InvalidOperationException($"{call}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    private static (uint Uid, uint Gid) Ids(string user)
    {
        var fields = File.ReadLines("/etc/passwd").Select(l => l.Split(':')).First(f => f[0] == user);
        return (uint.Parse(fields[2]), uint.Parse(fields[3]));
    }

    private static uint[] GroupsOf(string user) =>
        [.. File.ReadLines("/etc/group").Select(l => l.Split(':'))
            .Where(f => f.Length > 3 && f[3].Split(',').Contains(user)).Select(f => uint.Parse(f[2]))];
}
