namespace Kmonitor.Interop;

/// <summary>
/// The C library the project's own [LibraryImport]s bind to. Most of libc comes from Tmds.LibC
/// (<c>Tmds.Linux.LibC</c>); the files in this folder bind only what it lacks, one file per kernel
/// area, and the calls that take a descriptor, which are declared here with a SafeHandle so the
/// marshaller keeps the descriptor open for the length of the call.
/// </summary>
public static partial class Libc
{
    /// <summary>
    /// glibc by its soname, as Tmds.LibC names it: a name the dynamic loader matches against the
    /// already loaded library, so a binding resolves even where no file system is left (the relay).
    /// </summary>
    public const string Name = "libc.so.6";
}
