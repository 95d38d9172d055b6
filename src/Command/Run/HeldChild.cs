using System.IO.Pipes;
using System.Runtime.InteropServices;
using System.Text;
using Kmonitor.Command.Interop;

namespace Kmonitor.Command.Run;

/// <summary>
/// A command started but held before its exec, so that a TREE subscription on its pid is in place
/// before it (or anything it starts) does anything: no event of its tree can come too early.
/// </summary>
/// <remarks>
/// .NET's Process cannot stop a child between fork and exec, so the child is /bin/sh running
/// <c>read _ &lt;&amp;3 &amp;&amp; exec "$0" "$@" 3&lt;&amp;-</c>: it waits for a line on fd 3, a pipe that
/// only we write to, then becomes the command (same pid). posix_spawn rather than Process with a
/// piped stdin, because the command keeps our stdin, stdout and stderr (it may be interactive) and
/// because posix_spawn returns only once /bin/sh runs, so the wrapper's own exec is over before we
/// subscribe. Closing the pipe without a line ends the wrapper without running the command.
/// </remarks>
internal sealed unsafe class HeldChild : IDisposable
{
    private const string Wrapper = "read _ <&3 && exec \"$0\" \"$@\" 3<&-";
    private const int ReleaseFd = 3;
    private const int SIGPIPE = 13;

    private AnonymousPipeServerStream? _release;
    private bool _reaped;

    private HeldChild(int pid, AnonymousPipeServerStream release)
    {
        Pid = pid;
        _release = release;
    }

    public int Pid { get; }

    public static HeldChild Start(IReadOnlyList<string> command)
    {
        var release = new AnonymousPipeServerStream(PipeDirection.Out, HandleInheritability.None);
        try
        {
            string[] argv = ["/bin/sh", "-c", Wrapper, .. command];
            string[] environment = [.. Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .Select(e => $"{e.Key}={e.Value}")];
            int pid = SpawnWrapper(argv, environment, release.ClientSafePipeHandle);
            release.DisposeLocalCopyOfClientHandle(); // the child has its copy as fd 3
            return new HeldChild(pid, release);
        }
        catch
        {
            release.Dispose();
            throw;
        }
    }

    private static int SpawnWrapper(string[] argv, string[] environment, SafeHandle releaseEnd)
    {
        byte* actions = stackalloc byte[Spawn.FileActionsSize];
        byte* attributes = stackalloc byte[Spawn.AttributesSize];
        byte* defaults = stackalloc byte[Spawn.SigsetSize];
        byte* mask = stackalloc byte[Spawn.SigsetSize];
        using var args = new NativeStrings(argv);
        using var env = new NativeStrings(environment);
        Spawn.posix_spawn_file_actions_init(actions);
        Spawn.posix_spawnattr_init(attributes);
        try
        {
            Spawn.posix_spawn_file_actions_adddup2(actions, releaseEnd, ReleaseFd);
            // The .NET runtime ignores SIGPIPE, and an ignored signal stays ignored across exec:
            // give the command the default back, as Process.Start does. Nothing blocked, either.
            Spawn.sigemptyset(defaults);
            ((ulong*)defaults)[0] = 1UL << (SIGPIPE - 1);
            Spawn.sigemptyset(mask);
            Spawn.posix_spawnattr_setsigdefault(attributes, defaults);
            Spawn.posix_spawnattr_setsigmask(attributes, mask);
            Spawn.posix_spawnattr_setflags(attributes, Spawn.POSIX_SPAWN_SETSIGDEF | Spawn.POSIX_SPAWN_SETSIGMASK);
            int pid;
            int error = Spawn.posix_spawnp(&pid, args.Pointers[0], actions, attributes, args.Pointers, env.Pointers);
            if (error != 0)
                throw new IOException($"cannot start /bin/sh to hold the command: {Marshal.GetPInvokeErrorMessage(error)}");
            return pid;
        }
        finally
        {
            Spawn.posix_spawnattr_destroy(attributes);
            Spawn.posix_spawn_file_actions_destroy(actions);
        }
    }

    /// <summary>Lets the wrapper exec the command.</summary>
    public void Release()
    {
        var release = _release ?? throw new InvalidOperationException("released already");
        _release = null;
        using (release)
            release.Write("\n"u8);
    }

    public void Signal(int signal) => Spawn.kill(Pid, signal);

    /// <summary>Reaps the child (its exit was reported by the device already, so this does not wait long).</summary>
    public int? Reap()
    {
        if (_reaped)
            return null;
        int status;
        int result;
        do
            result = Spawn.waitpid(Pid, &status, 0);
        while (result < 0 && Marshal.GetLastPInvokeError() == Spawn.EINTR);
        _reaped = true;
        return result == Pid ? status : null; // ECHILD: SIGCHLD ignored, the kernel reaped it
    }

    /// <summary>A child never released ends without running the command (its read sees EOF).</summary>
    public void Dispose()
    {
        _release?.Dispose();
        _release = null;
    }

    /// <summary>NUL-terminated UTF-8 strings and the NULL-terminated array of pointers to them.</summary>
    private sealed class NativeStrings : IDisposable
    {
        private readonly nint[] _strings;

        public NativeStrings(string[] values)
        {
            _strings = [.. values.Select(v => Marshal.StringToCoTaskMemUTF8(v))];
            Pointers = (byte**)NativeMemory.AllocZeroed((nuint)(values.Length + 1), (nuint)sizeof(nint));
            for (int i = 0; i < values.Length; i++)
                Pointers[i] = (byte*)_strings[i];
        }

        public byte** Pointers { get; }

        public void Dispose()
        {
            foreach (var s in _strings)
                Marshal.FreeCoTaskMem(s);
            NativeMemory.Free(Pointers);
        }
    }
}
