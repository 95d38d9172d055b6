namespace Kmonitor.Events;

/// <summary>
/// The bounded ring between the listener and the dispatcher: one writer, one reader. When it is
/// full the new event is refused and counted (the listener never waits on the dispatcher), which
/// is what the --buffer-length setting bounds.
/// </summary>
public sealed class EventRing
{
    private readonly ProcEvent[] _slots;
    private readonly object _gate = new();
    private int _head;   // next slot to read
    private int _count;
    private bool _completed;

    public EventRing(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _slots = new ProcEvent[capacity];
    }

    public int Capacity => _slots.Length;

    public int Count { get { lock (_gate) return _count; } }

    /// <summary>True once <see cref="Complete"/> was called and every event has been read.</summary>
    public bool IsCompleted { get { lock (_gate) return _completed && _count == 0; } }

    /// <summary>Adds an event; false when the ring is full (the event is lost and the caller counts it).</summary>
    public bool TryWrite(in ProcEvent ev)
    {
        lock (_gate)
        {
            if (_count == _slots.Length)
                return false;
            _slots[(_head + _count) % _slots.Length] = ev;
            if (_count++ == 0)
                Monitor.Pulse(_gate);
            return true;
        }
    }

    /// <summary>Takes the oldest event, waiting up to <paramref name="timeoutMs"/>; false on timeout or completion.</summary>
    public bool TryRead(out ProcEvent ev, int timeoutMs)
    {
        lock (_gate)
        {
            while (_count == 0)
            {
                if (_completed || !Monitor.Wait(_gate, timeoutMs))
                {
                    ev = default;
                    return false;
                }
            }
            ev = _slots[_head];
            _head = (_head + 1) % _slots.Length;
            _count--;
            return true;
        }
    }

    /// <summary>Wakes the reader for good: after this, reads drain what is left and then return false.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.PulseAll(_gate);
        }
    }
}
