namespace Kmonitor.Fuse.Protocol;

/// <summary>
/// Constants of linux/fuse.h (which also holds CUSE's), under the kernel's names. tests/clients/fuse_layout.c
/// prints the installed header's values and the protocol tests compare them with these.
/// </summary>
public static class FuseConstants
{
    public const uint FUSE_KERNEL_VERSION = 7;

    /// <summary>The protocol minor this layer speaks: 7.31 has every message it uses (the ioctl iovec form needs 7.16).</summary>
    public const uint FUSE_KERNEL_MINOR_VERSION = 31;

    public const ulong FUSE_ROOT_ID = 1;

    public const uint FOPEN_DIRECT_IO = 1 << 0;
    public const uint FOPEN_NONSEEKABLE = 1 << 2;
    public const uint FOPEN_STREAM = 1 << 4;
    public const uint FOPEN_NOFLUSH = 1 << 5;

    public const uint FUSE_IOCTL_COMPAT = 1 << 0;
    public const uint FUSE_IOCTL_UNRESTRICTED = 1 << 1;
    public const uint FUSE_IOCTL_RETRY = 1 << 2;
    public const uint FUSE_IOCTL_32BIT = 1 << 3;
    public const uint FUSE_IOCTL_DIR = 1 << 4;

    public const uint CUSE_UNRESTRICTED_IOCTL = 1 << 0;

    /// <summary>fuse_poll_in.flags: the kernel wants a FUSE_NOTIFY_POLL with the request's kh when readiness changes.</summary>
    public const uint FUSE_POLL_SCHEDULE_NOTIFY = 1 << 0;

    /// <summary>enum fuse_notify_code: a notification carries its code in fuse_out_header.error, with unique 0.</summary>
    public const int FUSE_NOTIFY_POLL = 1;

    /// <summary>&lt;dirent.h&gt;'s d_type values, which fuse_dirent.type carries (Tmds.LibC 0.5.0 has none).</summary>
    public const uint DT_DIR = 4;
    public const uint DT_REG = 8;
}
