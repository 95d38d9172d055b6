using Kmonitor.Registrations;
using Kmonitor.Signals;

namespace Kmonitor.Tests.Unit.Support;

/// <summary>One notification as the delivery was asked to send it.</summary>
public readonly record struct Sent(int Monitor, int Signal, int Pid, uint Uid, int Bit, bool ThroughRelay, int Thread);

/// <summary>
/// The delivery as a recorder: what would have been sent, in order, and by which thread; it answers
/// 0 unless a test says otherwise (ESRCH for a monitor gone, EAGAIN for a full queue).
/// </summary>
public sealed class RecordingDelivery : ISignalDelivery
{
    private readonly List<Sent> _sent = [];

    /// <summary>The errno each send answers, by monitor pid; 0 when not given.</summary>
    public Dictionary<int, int> Answers { get; } = [];

    public List<Sent> Sent
    {
        get { lock (_sent) return [.. _sent]; }
    }

    /// <summary>What was sent, as (si_pid, event bit) pairs.</summary>
    public List<(int Pid, int Bit)> Events => Sent.Select(s => (s.Pid, s.Bit)).ToList();

    public void Clear()
    {
        lock (_sent)
            _sent.Clear();
    }

    public int Send(MonitorProcess monitor, int signal, int subjectPid, uint subjectUid, int bit) =>
        Record(new Sent(monitor.Tgid, signal, subjectPid, subjectUid, bit, false, Environment.CurrentManagedThreadId));

    public int SendInOtherNamespace(MonitorProcess monitor, int signal, int localPid, uint subjectUid, int bit) =>
        Record(new Sent(monitor.Tgid, signal, localPid, subjectUid, bit, true, Environment.CurrentManagedThreadId));

    /// <summary>Runs before each send, outside the recorder's lock: a test stalls the sending thread here.</summary>
    public Action? BeforeSend { get; set; }

    private int Record(Sent sent)
    {
        BeforeSend?.Invoke();
        lock (_sent)
        {
            _sent.Add(sent);
            return Answers.TryGetValue(sent.Monitor, out int errno) ? errno : 0;
        }
    }

    public void Dispose() { }
}
