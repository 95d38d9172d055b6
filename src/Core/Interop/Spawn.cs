using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>
/// posix_spawn(3) and waitpid(2), which Tmds.LibC 0.5.0 lacks. posix_spawn forks on the calling
/// thread without creating threads, so it honours that thread's setns.
/// </summary>
public static unsafe partial class Spawn
{
    /// <summary>posix_spawn_file_actions_t is 80 bytes with glibc on 64-bit; this leaves room.</summary>
    public const int FileActionsSize = 128;

    [LibraryImport(Libc.Name)]
    public static partial int posix_spawn_file_actions_init(void* actions);

    [LibraryImport(Libc.Name)]
    public static partial int posix_spawn_file_actions_adddup2(void* actions, SafeHandle fd, int newfd);

    [LibraryImport(Libc.Name)]
    public static partial int posix_spawn_file_actions_destroy(void* actions);

    /// <summary>Returns 0 or an errno (posix_spawn does not use errno).</summary>
    [LibraryImport(Libc.Name)]
    public static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int waitpid(int pid, int* status, int options);
}
