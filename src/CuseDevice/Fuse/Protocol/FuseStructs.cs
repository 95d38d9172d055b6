using System.Runtime.InteropServices;

namespace Kmonitor.Fuse.Protocol;

// The message layouts of linux/fuse.h that this daemon reads or writes, field for field.
// Sizes are checked by unit tests against the kernel header's numbers.

/// <summary>Protocol constants of linux/fuse.h and linux/cuse.h.</summary>
public static class FuseConstants
{
    public const uint FUSE_KERNEL_VERSION = 7;

    /// <summary>The protocol minor this daemon speaks: 7.31 has every message it uses (the ioctl iovec form needs 7.16).</summary>
    public const uint FUSE_KERNEL_MINOR_VERSION = 31;

    public const ulong FUSE_ROOT_ID = 1;

    /// <summary>The kernel refuses to read into a buffer smaller than this.</summary>
    public const int FUSE_MIN_READ_BUFFER = 8192;

    public const uint FOPEN_DIRECT_IO = 1 << 0;
    public const uint FOPEN_NONSEEKABLE = 1 << 2;
    public const uint FOPEN_NOFLUSH = 1 << 5;

    public const uint FUSE_IOCTL_COMPAT = 1 << 0;
    public const uint FUSE_IOCTL_UNRESTRICTED = 1 << 1;
    public const uint FUSE_IOCTL_RETRY = 1 << 2;
    public const uint FUSE_IOCTL_32BIT = 1 << 3;
    public const uint FUSE_IOCTL_DIR = 1 << 4;

    public const uint CUSE_UNRESTRICTED_IOCTL = 1 << 0;

    public const uint S_IFDIR = 0x4000;
    public const uint S_IFREG = 0x8000;
    public const uint DT_DIR = 4;
    public const uint DT_REG = 8;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseInHeader
{
    public const int Size = 40;
    public uint Len;
    public FuseOpcode Opcode;
    public ulong Unique;
    public ulong NodeId;
    public uint Uid;
    public uint Gid;
    /// <summary>The calling thread's id (not its process), or 0 for requests no thread waits on (RELEASE).</summary>
    public uint Pid;
    public ushort TotalExtLen;
    public ushort Padding;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseOutHeader
{
    public const int Size = 16;
    public uint Len;
    public int Error;
    public ulong Unique;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseInitIn
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public uint Flags2;
    public fixed uint Unused[11];
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseInitOut
{
    public const int Size = 64;
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public ushort MaxBackground;
    public ushort CongestionThreshold;
    public uint MaxWrite;
    public uint TimeGran;
    public ushort MaxPages;
    public ushort MapAlignment;
    public uint Flags2;
    public uint MaxStackDepth;
    public ushort RequestTimeout;
    public fixed ushort Unused[11];
}

[StructLayout(LayoutKind.Sequential)]
public struct CuseInitIn
{
    public uint Major;
    public uint Minor;
    public uint Unused;
    public uint Flags;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct CuseInitOut
{
    public const int Size = 72;
    public uint Major;
    public uint Minor;
    public uint Unused;
    public uint Flags;
    public uint MaxRead;
    public uint MaxWrite;
    public uint DevMajor;
    public uint DevMinor;
    public fixed uint Spare[10];
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseAttr
{
    public const int Size = 88;
    public ulong Ino;
    public ulong FileSize;
    public ulong Blocks;
    public ulong Atime;
    public ulong Mtime;
    public ulong Ctime;
    public uint AtimeNsec;
    public uint MtimeNsec;
    public uint CtimeNsec;
    public uint Mode;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public uint Rdev;
    public uint BlkSize;
    public uint Flags;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseEntryOut
{
    public const int Size = 128;
    public ulong NodeId;
    public ulong Generation;
    public ulong EntryValid;
    public ulong AttrValid;
    public uint EntryValidNsec;
    public uint AttrValidNsec;
    public FuseAttr Attr;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseAttrOut
{
    public const int Size = 104;
    public ulong AttrValid;
    public uint AttrValidNsec;
    public uint Dummy;
    public FuseAttr Attr;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseOpenIn
{
    public uint Flags;
    public uint OpenFlags;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseOpenOut
{
    public const int Size = 16;
    public ulong Fh;
    public uint OpenFlags;
    public int BackingId;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseReleaseIn
{
    public ulong Fh;
    public uint Flags;
    public uint ReleaseFlags;
    public ulong LockOwner;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseReadIn
{
    public ulong Fh;
    public ulong Offset;
    public uint Size;
    public uint ReadFlags;
    public ulong LockOwner;
    public uint Flags;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseIoctlIn
{
    public const int Size = 32;
    public ulong Fh;
    public uint Flags;
    public uint Cmd;
    public ulong Arg;
    public uint InSize;
    public uint OutSize;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseIoctlOut
{
    public const int Size = 16;
    public int Result;
    public uint Flags;
    public uint InIovs;
    public uint OutIovs;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseIoctlIovec
{
    public const int Size = 16;
    public ulong Base;
    public ulong Len;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseInterruptIn
{
    public ulong Unique;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseDirent
{
    public const int HeaderSize = 24;
    public ulong Ino;
    public ulong Off;
    public uint NameLen;
    public uint Type;
}
