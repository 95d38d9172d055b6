using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>capset(2) and the capability numbers (linux/capability.h), which Tmds.LibC 0.5.0 lacks.</summary>
public static unsafe partial class Capabilities
{
    public const int CAP_KILL = 5;
    public const int CAP_NET_ADMIN = 12;
    public const int CAP_SYS_PTRACE = 19;
    public const int CAP_SYS_ADMIN = 21;

    /// <summary>64-bit capability sets, as two 32-bit halves.</summary>
    public const uint _LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    [LibraryImport(Libc.Name, SetLastError = true)]
    public static partial int capset(CapUserHeader* header, CapUserData* data);
}

/// <summary>struct __user_cap_header_struct.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CapUserHeader
{
    public uint Version;
    public int Pid;
}

/// <summary>struct __user_cap_data_struct: one per 32 capabilities (two with version 3).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CapUserData
{
    public uint Effective;
    public uint Permitted;
    public uint Inheritable;
}
