using System.Collections.Concurrent;
using Kmonitor.Fuse.Operations;
using Kmonitor.Interop;
using Kmonitor.Records;
using Kmonitor.Registrations;

namespace Kmonitor.Daemon.Device;

/// <summary>
/// The read(2) calls blocked in the daemon: READ requests with nothing to read yet, parked on their
/// file's record queue and answered by the thread that queues the next record, or with EINTR when
/// the kernel interrupts them (a signal reached the reader). Found by the request's unique id,
/// which is how FUSE_INTERRUPT names them.
/// </summary>
public sealed class ParkedReads
{
    private readonly ConcurrentDictionary<ulong, ParkedRead> _byUnique = new();

    /// <summary>Blocked reads now.</summary>
    public int Count => _byUnique.Count;

    /// <summary>Answers <paramref name="reply"/> with records now if <paramref name="file"/> has some, or parks it until it has.</summary>
    public void ReadOrPark(DeviceFile file, int bufferBytes, ReadReply reply)
    {
        var parked = new ParkedRead(this, file, bufferBytes, reply);
        _byUnique[reply.Unique] = parked; // before it can be answered: Deliver removes it
        var records = file.Records.ReadOrWait(parked);
        if (records is not null)
        {
            _byUnique.TryRemove(reply.Unique, out _);
            reply.Data(records);
        }
    }

    /// <summary>For a handover: every parked READ, by its unique, its file and the bytes it asked for.</summary>
    public List<(ulong Unique, ulong Fh, int BufferBytes)> Snapshot() =>
        [.. _byUnique.Select(p => (p.Key, p.Value.File.Handle, p.Value.BufferBytes))];

    /// <summary>
    /// FUSE_INTERRUPT of request <paramref name="unique"/>: a parked read is answered EINTR; anything
    /// else (answered already, or not a read) needs nothing.
    /// </summary>
    public void Interrupt(ulong unique)
    {
        if (_byUnique.TryGetValue(unique, out var parked) && parked.File.Records.Cancel(parked))
        {
            _byUnique.TryRemove(unique, out _);
            parked.Reply.Error(Errno.EINTR);
        }
    }

    private sealed class ParkedRead(ParkedReads owner, DeviceFile file, int bufferBytes, ReadReply reply) : IRecordWaiter
    {
        public DeviceFile File { get; } = file;
        public ReadReply Reply { get; } = reply;
        public int BufferBytes { get; } = bufferBytes;

        public void Deliver(ReadOnlySpan<byte> records)
        {
            owner._byUnique.TryRemove(Reply.Unique, out _);
            // Only this thread can answer it now: the queue handed it over, so an interrupt finds it gone.
            Reply.Data(records);
        }
    }
}
