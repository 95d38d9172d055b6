using System.Runtime.InteropServices;

namespace Kmonitor.Client.Interop;

/// <summary>
/// One file descriptor, closed exactly once. The marshaller holds a reference for each call that
/// takes it, so a Dispose on another thread cannot close the number (and let the kernel reuse it)
/// in the middle of a read or an ioctl.
/// </summary>
internal sealed class DescriptorHandle : SafeHandle
{
    public DescriptorHandle() : base(new IntPtr(-1), ownsHandle: true) { }

    public DescriptorHandle(int fd) : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));

    /// <summary>fd 0 is a valid descriptor: only a negative number is invalid.</summary>
    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The number, for a pollfd; only while a reference is held (DangerousAddRef).</summary>
    public int Number => (int)handle.ToInt64();

    protected override bool ReleaseHandle() => Libc.close(Number) == 0;
}
