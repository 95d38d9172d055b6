using System.Runtime.CompilerServices;
using Kmonitor.Interop;
using Tmds.Linux;

namespace Kmonitor.Events;

/// <summary>
/// The bounded ring between the listener and the dispatcher, for the events the listener does not
/// handle itself (see <c>Dispatcher.TryDispatchInline</c>). When it is full the new event is
/// refused and counted (the listener never waits on the dispatcher), which is what the
/// --buffer-length setting bounds. Beside it runs a lane for the daemon's own markers (a pidfd
/// that turned readable, a monitor gone, a REGISTER that found its target dead): a marker is
/// never refused, so its poster never waits, and it comes out after every event written before it
/// and before every event written after it, carrying the object it is about.
/// </summary>
/// <remarks>
/// It sits on the path of every notification, so the hand-off costs as little as it can: writers
/// publish a slot with one release store and the reader takes it without a lock; a reader that
/// finds the ring empty spins a little (the next datagram of a burst is microseconds away) and
/// then sleeps on a futex, which a writer wakes with one syscall, and only when the reader sleeps.
/// (Monitor.Wait/Pulse cost a mutex hand-over on every event; an eventfd in poll(2) doubled the
/// p99 latency: both measured, see bench/RESULTS.md.) Writers are serialised by a lock: the
/// listener writes every event, and the other writers (the pidfd watcher, a REGISTER that found its
/// target dead) post rare markers, so it is uncontended. One reader. The reader looks at the
/// markers' lane only when the position of the next marker, one volatile read, says one is due.
/// </remarks>
public sealed unsafe class EventRing
{
    private const int Awake = 0, Asleep = 1;

    /// <summary>Spins before sleeping: a few microseconds, short because spinning takes a CPU from the tasks being watched.</summary>
    private const int SpinIterations = 10;

    private readonly ProcEvent[] _slots;
    private readonly object _writeGate = new();
    private long _head;   // next slot to read; written by the reader only
    private long _tail;   // next slot to write; written under _writeGate
    private volatile bool _completed;

    /// <summary>Markers waiting, each with the position in the ring it comes before; guarded by _writeGate.</summary>
    private readonly Queue<(long Position, ProcEvent Marker, object? Subject)> _markers = new();

    /// <summary>The position of the first waiting marker, long.MaxValue when none waits.</summary>
    private long _nextMarkerAt = long.MaxValue;

    /// <summary>The futex word: Asleep while the reader sleeps or is about to. Pinned, so its address never moves.</summary>
    private readonly int[] _readerState = GC.AllocateArray<int>(1, pinned: true);

    private int* ReaderStateAddress => (int*)Unsafe.AsPointer(ref _readerState[0]);

    /// <summary>The futex word's address: a test reads it off /proc/TID/syscall to see the reader asleep on it.</summary>
    internal nint ReaderStateWord => (nint)ReaderStateAddress;

    public EventRing(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _slots = new ProcEvent[capacity];
    }

    public int Capacity => _slots.Length;

    /// <summary>Events and markers not read yet.</summary>
    public int Count
    {
        get
        {
            int markers;
            lock (_writeGate)
                markers = _markers.Count;
            return (int)(Volatile.Read(ref _tail) - Volatile.Read(ref _head)) + markers;
        }
    }

    /// <summary>True once <see cref="Complete"/> was called and every event has been read.</summary>
    public bool IsCompleted => _completed && Count == 0;

    /// <summary>Adds an event; false when the ring is full (the event is lost and the caller counts it).</summary>
    public bool TryWrite(in ProcEvent ev)
    {
        lock (_writeGate)
        {
            long tail = _tail;
            if (tail - Volatile.Read(ref _head) == _slots.Length)
                return false;
            _slots[tail % _slots.Length] = ev;
            Volatile.Write(ref _tail, tail + 1); // publishes the slot
        }
        WakeReader();
        return true;
    }

    /// <summary>
    /// Adds one of the daemon's markers, never refused: it is read after every event already in the
    /// ring, with <paramref name="subject"/> beside it.
    /// </summary>
    public void Post(in ProcEvent marker, object? subject)
    {
        lock (_writeGate)
        {
            _markers.Enqueue((_tail, marker, subject));
            if (_markers.Count == 1)
                Volatile.Write(ref _nextMarkerAt, _tail);
        }
        WakeReader();
    }

    /// <summary>
    /// Adds a batch of events with one wake-up; those that do not fit are refused. Returns how many
    /// were refused (lost: the caller counts them).
    /// </summary>
    public int WriteBatch(ReadOnlySpan<ProcEvent> events)
    {
        int written = 0;
        lock (_writeGate)
        {
            long tail = _tail;
            int room = (int)(_slots.Length - (tail - Volatile.Read(ref _head)));
            written = Math.Min(room, events.Length);
            for (int i = 0; i < written; i++)
                _slots[(tail + i) % _slots.Length] = events[i];
            Volatile.Write(ref _tail, tail + written); // publishes the slots
        }
        if (written > 0)
            WakeReader();
        return events.Length - written;
    }

    /// <summary>
    /// No event and no marker waits. Seen by a thread that holds the dispatch lock (under which alone
    /// the reader takes), it means every event written before was taken and handled.
    /// </summary>
    public bool IsEmpty => Volatile.Read(ref _head) == Volatile.Read(ref _tail) && Volatile.Read(ref _nextMarkerAt) == long.MaxValue;

    /// <summary>Takes the oldest event or marker, waiting up to <paramref name="timeoutMs"/>; false on timeout or completion.</summary>
    public bool TryRead(out ProcEvent ev, int timeoutMs) => TryRead(out ev, out _, timeoutMs);

    /// <summary>The same, with what a marker carries (null for the kernel's events).</summary>
    public bool TryRead(out ProcEvent ev, out object? subject, int timeoutMs)
    {
        if (TryTake(out ev, out subject))
            return true;
        while (WaitReadable(timeoutMs))
        {
            if (TryTake(out ev, out subject))
                return true;
        }
        return false;
    }

    /// <summary>Takes the oldest event or marker if one is there, without waiting; the one reader only.</summary>
    public bool TryTake(out ProcEvent ev, out object? subject)
    {
        long head = _head;
        if (head >= Volatile.Read(ref _nextMarkerAt) && TryTakeMarker(head, out ev, out subject))
            return true;
        subject = null;
        if (head != Volatile.Read(ref _tail))
        {
            ev = _slots[head % _slots.Length];
            Volatile.Write(ref _head, head + 1); // frees the slot
            return true;
        }
        ev = default;
        return false;
    }

    /// <summary>
    /// Waits, up to <paramref name="timeoutMs"/>, until an event or a marker can be taken, without
    /// taking it (the dispatcher takes under its dispatch lock); false on timeout or completion.
    /// </summary>
    public bool WaitReadable(int timeoutMs)
    {
        long deadline = 0;
        int spins = 0;
        while (true)
        {
            if (!IsEmpty)
                return true;
            if (_completed || timeoutMs <= 0)
                return false;
            if (spins < SpinIterations)
            {
                spins++;
                Thread.SpinWait(20);
                continue;
            }
            long now = Environment.TickCount64;
            if (deadline == 0)
                deadline = now + timeoutMs;
            else if (now >= deadline)
                return false;
            // Asleep first, then look again: a writer that publishes after the look sees Asleep and wakes us.
            Interlocked.Exchange(ref _readerState[0], Asleep);
            if (IsEmpty && !_completed)
                SleepWhileAsleep((int)Math.Max(deadline - now, 1));
            Volatile.Write(ref _readerState[0], Awake);
        }
    }

    private bool TryTakeMarker(long head, out ProcEvent marker, out object? subject)
    {
        lock (_writeGate)
        {
            if (_markers.TryPeek(out var first) && first.Position <= head)
            {
                _markers.Dequeue();
                Volatile.Write(ref _nextMarkerAt, _markers.TryPeek(out var next) ? next.Position : long.MaxValue);
                (marker, subject) = (first.Marker, first.Subject);
                return true;
            }
        }
        (marker, subject) = (default, null);
        return false;
    }

    private void WakeReader()
    {
        // Interlocked is a full fence: the publication is visible before the reader's state is read.
        if (Interlocked.CompareExchange(ref _readerState[0], Awake, Asleep) == Asleep)
            Futex.futex(ReaderStateAddress, Futex.FUTEX_WAKE_PRIVATE, 1, null);
    }

    /// <summary>Sleeps on the futex word while it still says Asleep, at most <paramref name="timeoutMs"/>.</summary>
    private void SleepWhileAsleep(int timeoutMs)
    {
        var timeout = new timespec { tv_sec = timeoutMs / 1000, tv_nsec = timeoutMs % 1000 * 1_000_000 };
        Futex.futex(ReaderStateAddress, Futex.FUTEX_WAIT_PRIVATE, Asleep, &timeout);
    }

    /// <summary>Wakes the reader for good: after this, reads drain what is left and then return false.</summary>
    public void Complete()
    {
        _completed = true;
        Interlocked.Exchange(ref _readerState[0], Asleep);
        WakeReader();
    }
}
