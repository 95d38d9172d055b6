using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>
/// The architectures this folder's own bindings are right for. Tmds.LibC carries its structs per
/// architecture; what is bound here by hand (system-call numbers, siginfo_t) was checked for
/// x86-64 and arm64 only, so the daemon refuses to start anywhere else rather than guess.
/// </summary>
public static class Architectures
{
    /// <summary>One line saying why the daemon cannot run on this machine, or null when it can.</summary>
    public static string? Unsupported() =>
        RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64 ? null
            : $"kmonitord runs on x86-64 and arm64 Linux only, not {RuntimeInformation.ProcessArchitecture}: its system-call numbers are not known there";

    /// <summary>A system-call number from the kernel's tables (arch/x86/entry/syscalls, include/uapi/asm-generic/unistd.h).</summary>
    internal static int SystemCall(int x64, int arm64) => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => x64,
        Architecture.Arm64 => arm64,
        _ => -1, // refused at start (Unsupported); the kernel answers ENOSYS to -1 meanwhile
    };
}
