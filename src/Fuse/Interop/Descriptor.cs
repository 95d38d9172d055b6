using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Kmonitor.Fuse.Interop;

/// <summary>Owns one file descriptor and closes it exactly once (fd 0 is valid; only -1 is not).</summary>
internal sealed class Descriptor : SafeHandle
{
    public Descriptor(int fd) : base(new IntPtr(-1), ownsHandle: true) => SetHandle(new IntPtr(fd));

    public override bool IsInvalid => handle.ToInt64() < 0;

    protected override bool ReleaseHandle() => LibC.close((int)handle.ToInt64()) == 0;

    /// <summary>Holds the descriptor open for one call; see <see cref="HeldDescriptor"/>.</summary>
    public HeldDescriptor Hold() => new(this);
}

/// <summary>
/// A descriptor's number, valid until <see cref="Dispose"/>. Tmds.LibC's functions take raw ints, so
/// a call through one holds a reference on the handle for its length, as a SafeHandle parameter of a
/// generated binding would: a Dispose on another thread then closes the descriptor after the call
/// instead of under it (where the number could be reused by a new file meanwhile). This is the one
/// place this project touches SafeHandle's reference count. Throws ObjectDisposedException once the
/// handle is disposed.
/// </summary>
internal readonly ref struct HeldDescriptor
{
    private readonly SafeHandle _handle;

    public HeldDescriptor(SafeHandle handle)
    {
        bool added = false;
        handle.DangerousAddRef(ref added);
        _handle = handle;
        Fd = (int)handle.DangerousGetHandle().ToInt64();
    }

    public int Fd { get; }

    public void Dispose() => _handle.DangerousRelease();
}
