using Kmonitor.Diagnostics;
using Kmonitor.Fuse.Channel;
using Kmonitor.Fuse.Protocol;
using Kmonitor.Interop;

namespace Kmonitor.Fuse;

/// <summary>
/// The request loop shared by both front ends: read a request, let the handler answer it, write the
/// reply. One request at a time, so a request is always answered before the next is read.
/// </summary>
public sealed class FuseSession(FuseChannel channel, IFuseRequestHandler handler)
{
    /// <summary>The kernel wants room for the largest write plus headers in every read.</summary>
    private const int ReadBufferSize = (int)Operations.FuseInit.MaxWrite + 4096;

    /// <summary>Serves until <see cref="FuseChannel.Stop"/> (returns 0) or until the kernel ends the connection (returns ENODEV).</summary>
    public int Run()
    {
        var buffer = GC.AllocateArray<byte>(ReadBufferSize, pinned: true);
        var writer = new FuseReplyWriter();
        while (true)
        {
            int n = channel.Read(buffer);
            if (n == 0)
                return 0;
            if (n < 0)
            {
                if (n != -Errno.ENODEV)
                    Log.Error($"reading {channel.Path} failed: {Errno.Describe(-n)}");
                return -n;
            }
            Serve(buffer.AsSpan(0, n), writer);
        }
    }

    private void Serve(ReadOnlySpan<byte> message, FuseReplyWriter writer)
    {
        ulong unique = 0;
        ReadOnlySpan<byte> reply;
        try
        {
            var request = new FuseRequest(message);
            unique = request.Header.Unique;
            reply = handler.Handle(request, writer);
        }
        catch (Exception e)
        {
            // A bug in one request's handling fails that request, not the daemon.
            Log.Error($"request {unique} failed: {e.GetType().Name}: {e.Message}");
            if (unique == 0)
                return;
            reply = writer.Error(unique, Errno.EIO);
        }
        if (reply.IsEmpty)
            return;
        int error = channel.Write(reply);
        // ENOENT: the caller was interrupted and the kernel dropped the request meanwhile; nothing to do.
        if (error != 0 && error != Errno.ENOENT)
            Log.Warning($"writing the reply to request {unique} failed: {Errno.Describe(error)}");
    }
}
