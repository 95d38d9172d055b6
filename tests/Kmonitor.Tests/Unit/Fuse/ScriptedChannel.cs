using System.Collections.Concurrent;
using Kmonitor.Fuse.Channel;

namespace Kmonitor.Tests.Unit.Fuse;

/// <summary>
/// A channel that hands the session the requests it was given, then reports a stop, and keeps every
/// reply written to it, from whichever thread. No kernel is involved: the protocol's logic alone.
/// </summary>
internal sealed class ScriptedChannel : IFuseChannel
{
    private readonly ConcurrentQueue<byte[]> _requests = new();
    private readonly BlockingCollection<byte[]> _replies = new();

    public string Path => "scripted";

    /// <summary>What <see cref="Read"/> returns once the requests run out: 0 (stopped) or -errno.</summary>
    public int EndOfRequests { get; set; }

    /// <summary>The errno every write returns (0: the kernel took the reply).</summary>
    public int WriteError { get; set; }

    public void Enqueue(params byte[][] requests)
    {
        foreach (var request in requests)
            _requests.Enqueue(request);
    }

    public int Read(Span<byte> buffer)
    {
        if (!_requests.TryDequeue(out var request))
            return EndOfRequests;
        request.CopyTo(buffer);
        return request.Length;
    }

    /// <summary>Set: writes throw ObjectDisposedException, as FuseChannel's do once it is disposed.</summary>
    public bool Closed { get; set; }

    public int Write(ReadOnlySpan<byte> reply)
    {
        ObjectDisposedException.ThrowIf(Closed, this);
        _replies.Add(reply.ToArray());
        return WriteError;
    }

    /// <summary>Every reply written so far, in order, taken out of the channel.</summary>
    public List<byte[]> TakeReplies()
    {
        var replies = new List<byte[]>();
        while (_replies.TryTake(out var reply))
            replies.Add(reply);
        return replies;
    }

    /// <summary>Waits for the next reply (one answered later, from another thread); fails after the timeout.</summary>
    public byte[] NextReply(TimeSpan timeout)
    {
        Assert.True(_replies.TryTake(out var reply, timeout), $"no reply within {timeout}");
        return reply!;
    }
}
