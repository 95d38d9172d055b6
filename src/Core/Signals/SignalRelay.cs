using System.Runtime.InteropServices;
using Kmonitor.Diagnostics;
using Kmonitor.Interop;
using Kmonitor.Registrations;

namespace Kmonitor.Signals;

/// <summary>
/// Sends notifications to monitors in one other pid namespace. A signal queued from an ancestor pid
/// namespace reaches its receiver with si_pid 0 (the kernel cannot show the sender's pid there, and
/// clears the field), so the notifications of such a monitor are sent by a relay: the daemon's own
/// executable in "relay" mode, started inside that namespace. The daemon passes it the monitor's
/// pidfd with each request (SCM_RIGHTS) and the relay sends the signal with the translated si_pid.
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

    /// <summary>What <see cref="Send"/> returns when the relay has ended (EPIPE).</summary>
    public const int RelayGone = 32;

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
        if (UnixSockets.socketpair(UnixSockets.AF_UNIX, UnixSockets.SOCK_SEQPACKET | UnixSockets.SOCK_CLOEXEC, 0, pair) != 0)
            throw KmonitorException.FromErrno("socketpair for the signal relay", Errno.Last);
        var ours = new FileDescriptorHandle(pair[0]);
        try
        {
            int pid = SpawnInNamespace(command, memberPid, pair[1]);
            Log.Info($"started signal relay {pid} in the pid namespace of process {memberPid}");
            return new SignalRelay(pidNamespace, ours, pid);
        }
        catch
        {
            ours.Dispose();
            throw;
        }
        finally
        {
            Libc.close(pair[1]);
        }
    }

    private static int SpawnInNamespace(IReadOnlyList<string> command, int memberPid, int relaySocket)
    {
        const int RelayFd = 3;
        int target = Libc.open($"/proc/{memberPid}/ns/pid", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        int own = Libc.open("/proc/self/ns/pid", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        var strings = command.Append(RelayFd.ToString()).Select(a => Marshal.StringToCoTaskMemUTF8(a)).ToArray();
        byte** argv = stackalloc byte*[strings.Length + 1];
        for (int i = 0; i < strings.Length; i++)
            argv[i] = (byte*)strings[i];
        argv[strings.Length] = null;
        byte* actions = stackalloc byte[Spawn.FileActionsSize];
        Spawn.posix_spawn_file_actions_init(actions);
        try
        {
            if (target < 0 || own < 0)
                throw KmonitorException.FromErrno($"open the pid namespace of {memberPid}", Errno.Last);
            // dup2 onto fd 3 clears close-on-exec there: the relay inherits just that end.
            Spawn.posix_spawn_file_actions_adddup2(actions, relaySocket, RelayFd);
            // Only this thread's children are affected, and only until the namespace is restored.
            if (Spawn.setns(target, Spawn.CLONE_NEWPID) != 0)
                throw KmonitorException.FromErrno($"setns into the pid namespace of {memberPid}", Errno.Last);
            int pid;
            int error = Spawn.posix_spawn(&pid, argv[0], actions, null, argv, EnvironmentBlock());
            if (Spawn.setns(own, Spawn.CLONE_NEWPID) != 0)
                Log.Error($"could not return to the daemon's pid namespace: {Errno.Describe(Errno.Last)}");
            if (error != 0)
                throw KmonitorException.FromErrno($"start the signal relay ({command[0]})", error);
            return pid;
        }
        finally
        {
            Spawn.posix_spawn_file_actions_destroy(actions);
            foreach (var s in strings)
                Marshal.FreeCoTaskMem(s);
            if (target >= 0)
                Libc.close(target);
            if (own >= 0)
                Libc.close(own);
        }
    }

    private static byte** EnvironmentBlock()
    {
        // The relay needs no settings of ours; DOTNET_* variables keep a framework-dependent start working.
        var variables = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(k => k is "PATH" or "HOME" || k.StartsWith("DOTNET_"))
            .Select(k => $"{k}={Environment.GetEnvironmentVariable(k)}").ToArray();
        var block = (byte**)NativeMemory.Alloc((nuint)(variables.Length + 1), (nuint)sizeof(byte*));
        for (int i = 0; i < variables.Length; i++)
            block[i] = (byte*)Marshal.StringToCoTaskMemUTF8(variables[i]); // lives as long as the daemon: one per relay
        block[variables.Length] = null;
        return block;
    }

    /// <summary>Sends one notification through the relay; returns 0 or the errno of pidfd_send_signal there.</summary>
    public int Send(MonitorProcess monitor, int signal, int pid, uint uid, int value)
    {
        var request = new Request { Signal = signal, Pid = pid, Uid = uid, Value = value };
        byte* control = stackalloc byte[UnixSockets.OneDescriptorControlSpace];
        new Span<byte>(control, UnixSockets.OneDescriptorControlSpace).Clear();
        var header = (CmsgHdr*)control;
        header->Length = UnixSockets.OneDescriptorControlLength;
        header->Level = UnixSockets.SOL_SOCKET;
        header->Type = UnixSockets.SCM_RIGHTS;
        bool added = false;
        lock (_gate)
        {
            try
            {
                monitor.Pidfd.DangerousAddRef(ref added);
                *(int*)(control + sizeof(CmsgHdr)) = monitor.Pidfd.Fd;
                var iov = new IoVec { Base = &request, Length = Request.Size };
                var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = UnixSockets.OneDescriptorControlSpace };
                nint sent;
                while ((sent = UnixSockets.sendmsg(_socket.Fd, &message, 0)) < 0 && Errno.Last == Errno.EINTR) { }
                if (sent != Request.Size)
                    return sent < 0 ? Errno.Last : Errno.EIO;
                int reply = 0;
                var replyIov = new IoVec { Base = &reply, Length = sizeof(int) };
                var replyMessage = new MsgHdr { Iov = &replyIov, IovLength = 1 };
                nint received;
                // The runtime's own signals interrupt blocking calls: EINTR is not an answer.
                while ((received = UnixSockets.recvmsg(_socket.Fd, &replyMessage, 0)) < 0 && Errno.Last == Errno.EINTR) { }
                // No reply: the relay is gone (a pid namespace ends, and its members are killed, when its
                // init exits). Whether the signal went out is unknown: EPIPE says so.
                return received == sizeof(int) ? reply : RelayGone;
            }
            catch (ObjectDisposedException)
            {
                return Errno.ESRCH;
            }
            finally
            {
                if (added)
                    monitor.Pidfd.DangerousRelease();
            }
        }
    }

    /// <summary>Closing the socket ends the relay; its reaper collects it.</summary>
    public void Dispose()
    {
        _socket.Dispose();
        if (Thread.CurrentThread != _reaper)
            _reaper.Join(TimeSpan.FromSeconds(2));
    }
}

/// <summary>The relay's side: runs in the monitors' pid namespace, sends what the daemon asks for.</summary>
public static unsafe class SignalRelayServer
{
    public static int Run(int fd)
    {
        byte* control = stackalloc byte[UnixSockets.OneDescriptorControlSpace];
        while (true)
        {
            SignalRelay.Request request;
            var iov = new IoVec { Base = &request, Length = SignalRelay.Request.Size };
            var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = UnixSockets.OneDescriptorControlSpace };
            nint n;
            while ((n = UnixSockets.recvmsg(fd, &message, UnixSockets.MSG_CMSG_CLOEXEC)) < 0 && Errno.Last == Errno.EINTR) { }
            if (n <= 0)
                return 0; // the daemon closed its end (or is gone): nothing left to relay
            var header = (CmsgHdr*)control;
            int pidfd = message.ControlLength >= UnixSockets.OneDescriptorControlLength && header->Type == UnixSockets.SCM_RIGHTS
                ? *(int*)(control + sizeof(CmsgHdr)) : -1;
            int error = Errno.EINVAL;
            if (pidfd >= 0 && n == SignalRelay.Request.Size)
            {
                var info = new SigInfo { Signo = request.Signal, Code = SigInfo.SI_QUEUE, Pid = request.Pid, Uid = request.Uid, Int = request.Value };
                using var handle = new FileDescriptorHandle(pidfd);
                error = Pidfd.pidfd_send_signal(handle, request.Signal, &info, 0) == 0 ? 0 : Errno.Last;
            }
            else if (pidfd >= 0)
            {
                Libc.close(pidfd);
            }
            var replyIov = new IoVec { Base = &error, Length = sizeof(int) };
            var reply = new MsgHdr { Iov = &replyIov, IovLength = 1 };
            if (UnixSockets.sendmsg(fd, &reply, 0) < 0)
                return 0;
        }
    }
}
