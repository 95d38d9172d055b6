using System.Collections.Concurrent;
using Kmonitor.Fuse;
using Kmonitor.Fuse.FileSystem;
using Kmonitor.Fuse.Protocol;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>A real <see cref="FuseSession"/> over a <see cref="ScriptedChannel"/>, with its log lines kept.</summary>
internal sealed class TestSession
{
    /// <summary>The file the FUSE sessions' one-file file system holds.</summary>
    public const string FileName = "device";
    public const uint FileMode = 0x1B0; // 0660
    public const uint FileUid = 0;
    public const uint FileGid = 1234;
    public const uint DirectoryOpenFlags = FuseConstants.FOPEN_DIRECT_IO | FuseConstants.FOPEN_NONSEEKABLE;

    private TestSession(Func<ScriptedChannel, FuseLog, FuseSession> create)
    {
        Session = create(Channel, (level, message) => Log.Enqueue((level, message)));
    }

    public ScriptedChannel Channel { get; } = new();

    public FuseSession Session { get; }

    public ConcurrentQueue<(FuseLogLevel Level, string Message)> Log { get; } = new();

    /// <summary>A FUSE mount whose file system is the one-file file system over <paramref name="device"/>.</summary>
    public static TestSession Mount(ICharacterDevice device, uint directoryOpenFlags = DirectoryOpenFlags) =>
        new((channel, log) => FuseSession.ForMount(channel, new OneFileFileSystem(FileName, FileMode, FileUid, FileGid, directoryOpenFlags, device), log));

    public static TestSession Cuse(ICharacterDevice device, string name = "kmonitor", uint major = 0, uint minor = 0) =>
        new((channel, log) => FuseSession.ForCuse(channel, new CuseDeviceInfo(name, major, minor), device, log));

    /// <summary>Serves the requests until they run out; returns what <see cref="FuseSession.Run"/> returned.</summary>
    public int Serve(params byte[][] requests)
    {
        Channel.Enqueue(requests);
        return Session.Run();
    }

    /// <summary>Serves one request and returns its one reply, split.</summary>
    public (FuseOutHeader Header, byte[] Payload) Ask(byte[] request)
    {
        Assert.Equal(0, Serve(request));
        return FuseWire.Reply(Assert.Single(Channel.TakeReplies()));
    }

    /// <summary>Serves one request that the protocol does not answer.</summary>
    public void AskExpectingNoReply(byte[] request)
    {
        Assert.Equal(0, Serve(request));
        Assert.Empty(Channel.TakeReplies());
    }
}
