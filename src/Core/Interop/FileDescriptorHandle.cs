using System.Runtime.InteropServices;

namespace Kmonitor.Interop;

/// <summary>
/// Owns one Linux file descriptor and closes it exactly once. Bindings take it as a SafeHandle, so
/// the marshaller holds a reference for the length of each call: a Dispose on another thread
/// waits for the call to end instead of closing (or letting the kernel reuse) the number mid-call.
/// </summary>
/// <remarks>fd 0 is a valid descriptor, so only a negative number counts as invalid.</remarks>
public sealed class FileDescriptorHandle : SafeHandle
{
    public FileDescriptorHandle() : base(new IntPtr(-1), ownsHandle: true) { }

    /// <summary>Takes ownership of <paramref name="fd"/>; -1 (a failed call's result) makes an invalid handle.</summary>
    public FileDescriptorHandle(int fd) : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The number, for text that names it (the "fd=N" of a FUSE mount); never for a call.</summary>
    public int Fd => (int)handle.ToInt64();

    /// <summary>
    /// Keeps the descriptor open while its number sits inside a structure the kernel reads (a
    /// pollfd, an SCM_RIGHTS message), where no marshaller can hold it. Throws
    /// ObjectDisposedException when the handle is already closed.
    /// </summary>
    public Borrowed Borrow()
    {
        bool added = false;
        DangerousAddRef(ref added);
        return new Borrowed(this);
    }

    /// <summary>A borrowed descriptor number, valid until Dispose.</summary>
    public readonly ref struct Borrowed(FileDescriptorHandle owner)
    {
        public int Number => owner.Fd;

        public void Dispose() => owner.DangerousRelease();
    }

    protected override bool ReleaseHandle() => Tmds.Linux.LibC.close(Fd) == 0;
}
