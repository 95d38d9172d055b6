using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>Owns one Linux file descriptor and closes it exactly once.</summary>
/// <remarks>fd 0 is a valid descriptor, so only -1 counts as invalid.</remarks>
public sealed class FileDescriptorHandle : SafeHandle
{
    public FileDescriptorHandle() : base(new IntPtr(-1), ownsHandle: true) { }

    public FileDescriptorHandle(int fd) : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw descriptor, for passing to a system call while the caller keeps this handle alive.</summary>
    public int Fd => (int)handle.ToInt64();

    protected override bool ReleaseHandle() => Libc.close(Fd) == 0;
}
