using System.Runtime.InteropServices;
using Kmonitor.Diagnostics;
using Kmonitor.Interop;
using Kmonitor.Registrations;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Kmonitor.Signals;

/// <summary>
/// Sends notifications to monitors in one other pid namespace. A signal queued from an ancestor pid
/// namespace reaches its receiver with si_pid 0 (the kernel cannot show the sender's pid there, and
/// clears the field), so the notifications of such a monitor are sent by a relay: the daemon's own
/// executable in "relay" mode, started inside that namespace. The daemon passes it the monitor's
/// pidfd with each request (SCM_RIGHTS) and the relay sends the signal with the translated si_pid.
/// The relay confines itself before it serves (see <see cref="RelayConfinement"/>).
/// </summary>
public sealed unsafe class SignalRelay : IDisposable
{
    private readonly FileDescriptorHandle _socket;
    private readonly int _pid;
    private readonly object _gate = new();
    private readonly Thread _reaper;

    public ulong PidNamespace { get; }

    /// <summary>Raised (on the reaper's thread) when the relay process has exited and been reaped.</summary>
    public event Action<SignalRelay>? Exited;

    /// <summary>What <see cref="Send"/> returns when the relay has ended.</summary>
    public const int RelayGone = Errno.EPIPE;

    private SignalRelay(ulong pidNamespace, FileDescriptorHandle socket, int pid)
    {
        PidNamespace = pidNamespace;
        _socket = socket;
        _pid = pid;
        // Reap the relay the moment it exits: a pid namespace's init cannot finish exiting while a
        // member of its namespace (our relay) is still an unreaped zombie.
        _reaper = new Thread(Reap) { IsBackground = true, Name = $"kmonitor-relay-{pid}" };
        _reaper.Start();
    }

    private void Reap()
    {
        int status;
        while (Spawn.waitpid(_pid, &status, 0) < 0 && Errno.Last == Errno.EINTR) { }
        Exited?.Invoke(this);
    }

    /// <summary>The request: the fields of the siginfo to send (the pidfd travels beside it).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Request
    {
        public const int Size = 16;
        public int Signal;
        public int Pid;
        public uint Uid;
        public int Value;
    }

    /// <summary>Starts a relay inside the pid namespace of process <paramref name="memberPid"/>.</summary>
    public static SignalRelay Start(IReadOnlyList<string> command, int memberPid, ulong pidNamespace)
    {
        int* pair = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
            throw KmonitorException.FromErrno("socketpair for the signal relay", Errno.Last);
        var ours = new FileDescriptorHandle(pair[0]);
        using var relayEnd = new FileDescriptorHandle(pair[1]); // closed here once the relay holds its own copy
        try
        {
            int pid = SpawnInNamespace(command, memberPid, relayEnd);
            Log.Info($"started signal relay {pid} in the pid namespace of process {memberPid}");
            return new SignalRelay(pidNamespace, ours, pid);
        }
        catch
        {
            ours.Dispose();
            throw;
        }
    }

    private static int SpawnInNamespace(IReadOnlyList<string> command, int memberPid, FileDescriptorHandle relaySocket)
    {
        const int RelayFd = 3;
        using var target = OpenPidNamespace($"/proc/{memberPid}/ns/pid");
        using var own = OpenPidNamespace("/proc/self/ns/pid");
        if (target.IsInvalid || own.IsInvalid)
            throw KmonitorException.FromErrno($"open the pid namespace of {memberPid}", Errno.Last);
        using var argv = new NativeStrings([.. command, RelayFd.ToString()]);
        using var environment = new NativeStrings(RelayEnvironment());
        byte* actions = stackalloc byte[Spawn.FileActionsSize];
        Spawn.posix_spawn_file_actions_init(actions);
        try
        {
            // dup2 onto fd 3 clears close-on-exec there: the relay inherits just that end.
            Spawn.posix_spawn_file_actions_adddup2(actions, relaySocket, RelayFd);
            // Only this thread's children are affected, and only until the namespace is restored.
            if (LinuxNamespaces.setns(target, CLONE_NEWPID) != 0)
                throw KmonitorException.FromErrno($"setns into the pid namespace of {memberPid}", Errno.Last);
            int pid;
            int error = Spawn.posix_spawn(&pid, argv.Pointers[0], actions, null, argv.Pointers, environment.Pointers);
            if (LinuxNamespaces.setns(own, CLONE_NEWPID) != 0)
                Log.Error($"could not return to the daemon's pid namespace: {Errno.Describe(Errno.Last)}");
            if (error != 0)
                throw KmonitorException.FromErrno($"start the signal relay ({command[0]})", error);
            return pid;
        }
        finally
        {
            Spawn.posix_spawn_file_actions_destroy(actions);
        }
    }

    private static FileDescriptorHandle OpenPidNamespace(string path)
    {
        fixed (byte* p = CString.From(path))
            return new FileDescriptorHandle(open(p, O_RDONLY | O_CLOEXEC));
    }

    /// <summary>
    /// The relay needs no settings of ours; DOTNET_* variables keep a framework-dependent start
    /// working. Its runtime opens no diagnostic socket: that would be made in the host's /tmp
    /// before the relay leaves the host's mount namespace, one more way into a confined process.
    /// </summary>
    private static string[] RelayEnvironment() =>
    [
        .. Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k is "PATH" or "HOME" || (k.StartsWith("DOTNET_") && k != "DOTNET_EnableDiagnostics"))
            .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}"),
        "DOTNET_EnableDiagnostics=0",
    ];

    /// <summary>Sends one notification through the relay; returns 0 or the errno of pidfd_send_signal there.</summary>
    public int Send(MonitorProcess monitor, int signal, int pid, uint uid, int value)
    {
        var request = new Request { Signal = signal, Pid = pid, Uid = uid, Value = value };
        lock (_gate)
        {
            try
            {
                int error = SendRequest(_socket, monitor.Pidfd, request);
                // No reply: the relay is gone (a pid namespace ends, and its members are killed, when its
                // init exits). Whether the signal went out is unknown: EPIPE says so.
                return error != 0 ? error : ReceiveReply(_socket) ?? RelayGone;
            }
            catch (ObjectDisposedException)
            {
                return Errno.ESRCH;
            }
        }
    }

    /// <summary>Sends a request with the pidfd beside it (SCM_RIGHTS); 0 or an errno.</summary>
    internal static int SendRequest(FileDescriptorHandle socket, FileDescriptorHandle target, Request request)
    {
        int controlSpace = Sockets.OneDescriptorControlSpace;
        byte* control = stackalloc byte[controlSpace];
        new Span<byte>(control, controlSpace).Clear();
        var header = (cmsghdr*)control;
        header->cmsg_len = (uint)Sockets.OneDescriptorControlLength;
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        // The pidfd's number travels in the message: it must stay open until sendmsg has taken it.
        using var pidfd = target.Borrow();
        *(int*)CMSG_DATA(header) = pidfd.Number;
        var iov = new iovec { iov_base = &request, iov_len = Request.Size };
        var message = new msghdr { msg_iov = &iov, msg_iovlen = 1, msg_control = control, msg_controllen = (uint)controlSpace };
        nint sent;
        while ((sent = Sockets.sendmsg(socket, &message, 0)) < 0 && Errno.Last == Errno.EINTR) { }
        return sent == Request.Size ? 0 : sent < 0 ? Errno.Last : Errno.EIO;
    }

    /// <summary>The relay's answer: 0 or the errno of pidfd_send_signal; null when none came (the relay is gone).</summary>
    internal static int? ReceiveReply(FileDescriptorHandle socket)
    {
        int reply = 0;
        var iov = new iovec { iov_base = &reply, iov_len = sizeof(int) };
        var message = new msghdr { msg_iov = &iov, msg_iovlen = 1 };
        nint received;
        // The runtime's own signals interrupt blocking calls: EINTR is not an answer.
        while ((received = Sockets.recvmsg(socket, &message, 0)) < 0 && Errno.Last == Errno.EINTR) { }
        return received == sizeof(int) ? reply : null;
    }

    /// <summary>Closing the socket ends the relay; its reaper collects it.</summary>
    public void Dispose()
    {
        _socket.Dispose();
        if (Thread.CurrentThread != _reaper)
            _reaper.Join(TimeSpan.FromSeconds(2));
    }

    /// <summary>A NULL-terminated array of NUL-terminated UTF-8 strings (an argv or envp), freed on Dispose.</summary>
    private sealed class NativeStrings : IDisposable
    {
        public byte** Pointers { get; }
        private readonly int _count;

        public NativeStrings(string[] strings)
        {
            _count = strings.Length;
            Pointers = (byte**)NativeMemory.AllocZeroed((nuint)(_count + 1), (nuint)sizeof(byte*));
            for (int i = 0; i < _count; i++)
                Pointers[i] = (byte*)Marshal.StringToCoTaskMemUTF8(strings[i]);
        }

        public void Dispose()
        {
            for (int i = 0; i < _count; i++)
                Marshal.FreeCoTaskMem((nint)Pointers[i]);
            NativeMemory.Free(Pointers);
        }
    }
}
