using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Kmonitor.Command.Cli;

/// <summary>
/// stdout as a plain file descriptor. .NET's console stream ignores EPIPE (and the runtime ignores
/// SIGPIPE), so `kmonitor watch | head -1` would go on writing into nothing forever; through a
/// FileStream the write fails and the command ends, as a C tool killed by SIGPIPE would.
/// Only for a pipe or socket: on a regular file a FileStream writes at an offset of its own
/// (pwrite), over what `run`'s command writes to the same file, and EPIPE cannot happen there.
/// </summary>
public static class StandardOutput
{
    private const int EPIPE = 32;

    /// <summary>The shell's status for a process killed by SIGPIPE.</summary>
    public const int BrokenPipeExitCode = 128 + 13;

    public static void Install()
    {
        var stream = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
        if (stream.CanSeek)
        {
            stream.Dispose();
            return;
        }
        // AutoFlush: each line leaves at once, for whoever reads the output as it comes.
        Console.SetOut(new StreamWriter(stream, new UTF8Encoding(false), 4096) { AutoFlush = true });
    }

    /// <summary>Whether the exception is stdout's reader gone: nothing to report, nobody to report it to.</summary>
    public static bool IsBrokenPipe(Exception e) => e is IOException { HResult: EPIPE };
}
