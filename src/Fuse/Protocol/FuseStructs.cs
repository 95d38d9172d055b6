using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kmonitor.Fuse.Protocol;

// The message layouts of linux/fuse.h that this layer reads or writes, field for field, in the
// kernel's order. Their sizes and offsets are not written here: tests/clients/fuse_layout.c prints
// the kernel header's, and the protocol tests compare them with these structs.

[StructLayout(LayoutKind.Sequential)]
public struct FuseInHeader
{
    public static int Size => Unsafe.SizeOf<FuseInHeader>();
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
    public static int Size => Unsafe.SizeOf<FuseOutHeader>();
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
    public ulong Ino;
    public ulong Size;
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
public struct FuseFlushIn
{
    public ulong Fh;
    public uint Unused;
    public uint Padding;
    public ulong LockOwner;
}

/// <summary>READ's argument, and READDIR's.</summary>
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
public struct FuseWriteIn
{
    public ulong Fh;
    public ulong Offset;
    public uint Size;
    public uint WriteFlags;
    public ulong LockOwner;
    public uint Flags;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseWriteOut
{
    public uint Size;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseFsyncIn
{
    public ulong Fh;
    public uint FsyncFlags;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseIoctlIn
{
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
    public int Result;
    public uint Flags;
    public uint InIovs;
    public uint OutIovs;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseIoctlIovec
{
    public ulong Base;
    public ulong Len;
}

/// <summary>One READDIR record's fixed part; the name follows, and the record is padded to 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseDirent
{
    public static int HeaderSize => Unsafe.SizeOf<FuseDirent>();
    public ulong Ino;
    public ulong Off;
    public uint NameLen;
    public uint Type;
}

/// <summary>POLL's argument. <see cref="Kh"/> names the file in a later poll notification.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FusePollIn
{
    public ulong Fh;
    public ulong Kh;
    /// <summary>FUSE_POLL_SCHEDULE_NOTIFY: someone waits, and wants a notification with Kh when readiness changes.</summary>
    public uint Flags;
    /// <summary>The POLL* bits the caller asked for, as poll(2) spells them.</summary>
    public uint Events;
}

[StructLayout(LayoutKind.Sequential)]
public struct FusePollOut
{
    public uint Revents;
    public uint Padding;
}

/// <summary>INTERRUPT's argument: the request whose caller a signal interrupted.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseInterruptIn
{
    public ulong Unique;
}

/// <summary>The body of a FUSE_NOTIFY_POLL notification: wake whoever polls the file of this kh.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FuseNotifyPollWakeupOut
{
    public ulong Kh;
}
