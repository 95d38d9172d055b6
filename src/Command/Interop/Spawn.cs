using System.Runtime.InteropServices;

namespace Kmonitor.Command.Interop;

/// <summary>
/// posix_spawn(3), waitpid(2) and kill(2): what `run` needs to start a command that is not a
/// .NET Process (one held before exec, see HeldChild). Bound here because the command references
/// the client library only; Tmds.LibC 0.5.0 lacks posix_spawn and waitpid anyway.
/// </summary>
internal static unsafe partial class Spawn
{
    private const string Libc = "libc";

    /// <summary>posix_spawn_file_actions_t is 80 bytes with glibc on 64-bit; this leaves room.</summary>
    public const int FileActionsSize = 128;

    /// <summary>posix_spawnattr_t is 336 bytes with glibc on 64-bit; this leaves room.</summary>
    public const int AttributesSize = 1024;

    /// <summary>sigset_t: 1024 bits with glibc.</summary>
    public const int SigsetSize = 128;

    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;

    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int EINTR = 4;

    [LibraryImport(Libc)]
    public static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport(Libc)]
    public static partial int posix_spawn_file_actions_adddup2(void* actions, SafeHandle fd, int newfd);

    [LibraryImport(Libc)]
    public static partial int posix_spawn_file_actions_destroy(void* actions);

    [LibraryImport(Libc)]
    public static partial int posix_spawnattr_init(void* attributes);

    [LibraryImport(Libc)]
    public static partial int posix_spawnattr_setflags(void* attributes, short flags);

    [LibraryImport(Libc)]
    public static partial int posix_spawnattr_setsigdefault(void* attributes, void* sigset);

    [LibraryImport(Libc)]
    public static partial int posix_spawnattr_setsigmask(void* attributes, void* sigset);

    [LibraryImport(Libc)]
    public static partial int posix_spawnattr_destroy(void* attributes);

    [LibraryImport(Libc)]
    public static partial int sigemptyset(void* sigset);

    [LibraryImport(Libc)]
    public static partial int sigfillset(void* sigset);

    /// <summary>Returns 0 or an errno (posix_spawn does not use errno).</summary>
    [LibraryImport(Libc)]
    public static partial int posix_spawnp(int* pid, byte* file, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int waitpid(int pid, int* status, int options);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int kill(int pid, int signal);
}
