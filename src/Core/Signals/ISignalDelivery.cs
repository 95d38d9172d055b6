using Kmonitor.Registrations;

namespace Kmonitor.Signals;

/// <summary>
/// How a notification reaches a monitor: the last step of <see cref="Notifier"/>, the one that
/// makes the system call. Every method returns 0 or the errno of pidfd_send_signal (ESRCH: the
/// monitor has exited; EAGAIN: its queue of pending signals is full).
/// </summary>
public interface ISignalDelivery : IDisposable
{
    /// <summary>To a monitor in the daemon's pid namespace: si_pid is <paramref name="subjectPid"/> as it is.</summary>
    int Send(MonitorProcess monitor, int signal, int subjectPid, uint subjectUid, int bit);

    /// <summary>To a monitor in another pid namespace: <paramref name="localPid"/> is already as the monitor sees it.</summary>
    int SendInOtherNamespace(MonitorProcess monitor, int signal, int localPid, uint subjectUid, int bit);
}

/// <summary>The real delivery: pidfd_send_signal, and a relay per pid namespace for monitors in other ones.</summary>
public sealed class SignalDelivery(IReadOnlyList<string>? relayCommand) : ISignalDelivery
{
    private readonly SignalRelayPool _relays = new(relayCommand);

    public int Send(MonitorProcess monitor, int signal, int subjectPid, uint subjectUid, int bit) =>
        SignalSender.Send(monitor, signal, subjectPid, subjectUid, bit);

    public int SendInOtherNamespace(MonitorProcess monitor, int signal, int localPid, uint subjectUid, int bit) =>
        _relays.Send(monitor, signal, localPid, subjectUid, bit);

    public void Dispose() => _relays.Dispose();
}
