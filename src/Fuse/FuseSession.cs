using System.Runtime.InteropServices;
using Kmonitor.Fuse.Channel;
using Kmonitor.Fuse.Protocol;
using Tmds.Linux;

namespace Kmonitor.Fuse;

/// <summary>
/// One connection with the kernel, FUSE (a mount) or CUSE (a character device): reads each request,
/// answers INIT (and the messages that need no handler) itself, and hands every other opcode to
/// the device or the file system, as the <see cref="OpcodeTable"/> says. Requests are read one at a time on the thread that calls
/// <see cref="Run"/>; replies may come from any thread, so a handler can keep a request and answer
/// it later without holding up the next.
/// </summary>
public sealed partial class FuseSession
{
    /// <summary>The largest WRITE the kernel may send and the largest READ it may ask for (agreed at INIT).</summary>
    public const uint MaxWrite = 64 * 1024;

    /// <summary>The kernel wants room for the largest write plus headers in every read; no reply is larger.</summary>
    internal const int MessageBufferSize = (int)MaxWrite + 4096;

    private readonly IFuseChannel _channel;
    private readonly FuseLog _log;

    private FuseSession(IFuseChannel channel, FuseLog log, FuseProtocolKind kind, ICharacterDevice device, IRawFileSystem? fileSystem, CuseDeviceInfo? cuse)
    {
        _channel = channel;
        _log = log;
        Kind = kind;
        Device = device;
        FileSystem = fileSystem;
        Cuse = cuse;
    }

    /// <summary>A FUSE mount's session (on /dev/fuse): every request goes to <paramref name="fileSystem"/>.</summary>
    public static FuseSession ForMount(IFuseChannel channel, IRawFileSystem fileSystem, FuseLog log) =>
        new(channel, log, FuseProtocolKind.Fuse, fileSystem, fileSystem, null);

    /// <summary>A CUSE device's session (on /dev/cuse): CUSE_INIT makes /dev/NAME, whose requests go to <paramref name="device"/>.</summary>
    public static FuseSession ForCuse(IFuseChannel channel, CuseDeviceInfo info, ICharacterDevice device, FuseLog log) =>
        new(channel, log, FuseProtocolKind.Cuse, device, null, info);

    internal FuseProtocolKind Kind { get; }

    /// <summary>Who answers the requests on open files: the CUSE device, or the mount's file system.</summary>
    internal ICharacterDevice Device { get; }

    /// <summary>The mount's file system; null in a CUSE session, which the table never sends its opcodes.</summary>
    internal IRawFileSystem? FileSystem { get; }

    internal CuseDeviceInfo? Cuse { get; }

    /// <summary>The protocol minor agreed at INIT (0 until then); a session taken over starts with the old one's.</summary>
    public uint NegotiatedMinor { get; private set; }

    /// <summary>
    /// For a takeover: the kernel initialised this connection with the previous instance and sends
    /// no INIT again, so the session starts in the state that INIT left.
    /// </summary>
    public void ResumeInitialized(uint minor) => NegotiatedMinor = minor;

    /// <summary>A READ the previous instance took from the channel and did not answer: answered through this session.</summary>
    public Operations.ReadReply AdoptRead(ulong unique) => new(new FuseReply(this, unique));

    /// <summary>Serves until the channel is stopped (returns 0) or the kernel ends the connection (returns ENODEV).</summary>
    public int Run()
    {
        var buffer = GC.AllocateArray<byte>(MessageBufferSize, pinned: true);
        while (true)
        {
            int n = _channel.Read(buffer);
            if (n == 0)
                return 0;
            if (n < 0)
            {
                if (n != -LibC.ENODEV)
                    _log(FuseLogLevel.Error, $"reading {_channel.Path} failed: {Marshal.GetPInvokeErrorMessage(-n)}");
                return -n;
            }
            Serve(buffer.AsSpan(0, n));
        }
    }

    private void Serve(ReadOnlySpan<byte> message)
    {
        ulong unique = 0;
        FuseReply? reply = null;
        try
        {
            var request = new FuseRequest(message);
            unique = request.Header.Unique;
            reply = new FuseReply(this, unique);
            if (OpcodeTable.Find(request.Opcode, Kind) is { } operation)
                operation.Serve(this, request, reply.Value);
            else
                reply.Value.Error(LibC.ENOSYS);
        }
        catch (Exception e)
        {
            // A bug in one request's handling fails that request, not the daemon. A handler that
            // answered (or kept the reply) before it threw keeps its answer: the EIO is dropped then.
            _log(FuseLogLevel.Error, $"request {unique} failed: {e.GetType().Name}: {e.Message}");
            reply?.Error(LibC.EIO);
        }
    }

    /// <summary>Writes one reply; called by <see cref="FuseReply"/> from whichever thread answers.</summary>
    internal void Send(ulong unique, ReadOnlySpan<byte> reply)
    {
        int error = Write(reply);
        // ENOENT: the caller was interrupted and the kernel dropped the request meanwhile; nothing to do.
        if (error != 0 && error != LibC.ENOENT)
            _log(FuseLogLevel.Warning, $"writing the reply to request {unique} failed: {Marshal.GetPInvokeErrorMessage(error)}");
    }

    /// <summary>
    /// Writes one message to the kernel. A kept request answered after the channel was closed (the
    /// daemon stopping while a reader waits) is dropped: the connection, and the caller's wait, ended
    /// with the channel, so there is no one to tell.
    /// </summary>
    private int Write(ReadOnlySpan<byte> message)
    {
        try
        {
            return _channel.Write(message);
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
    }
}

/// <summary>Which protocol a session speaks (and, in the opcode table, which sessions an opcode is for).</summary>
[Flags]
internal enum FuseProtocolKind { Fuse = 1, Cuse = 2, Both = Fuse | Cuse }

/// <summary>What CUSE_INIT tells the kernel about the device to create.</summary>
/// <param name="Name">The device is /dev/NAME.</param>
/// <param name="Major">The device number; 0 and 0 let the kernel pick a free one.</param>
public sealed record CuseDeviceInfo(string Name, uint Major, uint Minor);
