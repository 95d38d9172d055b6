using Kmonitor.Diagnostics;
using Kmonitor.Interop;
using Kmonitor.Registrations;

namespace Kmonitor.Signals;

/// <summary>
/// The signal relays, one per pid namespace that holds a monitor, started on first use. A signal
/// from the daemon would reach a monitor in another pid namespace with si_pid cleared by the
/// kernel, so it goes through that namespace's relay.
/// </summary>
/// <param name="command">How to start a relay; null: none is started, and such monitors get si_pid 0.</param>
public sealed class SignalRelayPool(IReadOnlyList<string>? command) : IDisposable
{
    private readonly Dictionary<ulong, SignalRelay> _relays = [];

    /// <summary>Sends through the relay of the monitor's namespace; returns 0 or the errno.</summary>
    public int Send(MonitorProcess monitor, int signal, int localPid, uint uid, int bit)
    {
        SignalRelay? relay;
        lock (_relays)
        {
            if (!_relays.TryGetValue(monitor.PidNamespace, out relay) && command is not null)
            {
                try
                {
                    relay = SignalRelay.Start(command, monitor.Tgid, monitor.PidNamespace);
                    relay.Exited += Forget;
                    _relays[monitor.PidNamespace] = relay;
                }
                catch (KmonitorException e)
                {
                    Log.Error($"{e.Message}; {monitor}'s notifications carry si_pid 0");
                }
            }
        }
        if (relay is null)
            return SignalSender.Send(monitor, signal, localPid, uid, bit);
        int error = relay.Send(monitor, signal, localPid, uid, bit);
        if (error is SignalRelay.RelayGone or Errno.ECONNRESET)
        {
            // The relay ended (its namespace ended, or someone killed it): the next send starts a new one.
            lock (_relays)
                _relays.Remove(monitor.PidNamespace);
            relay.Dispose();
            if (!monitor.IsAlive)
                return Errno.ESRCH;
            Log.Warning($"the signal relay for {monitor}'s pid namespace ended while sending; a new one starts on the next notification");
            return 0; // it most likely went out before the relay was killed; never send it twice
        }
        return error;
    }

    /// <summary>A relay has exited (its namespace ended, most likely): the next send starts a new one.</summary>
    private void Forget(SignalRelay relay)
    {
        lock (_relays)
        {
            if (_relays.TryGetValue(relay.PidNamespace, out var current) && current == relay)
                _relays.Remove(relay.PidNamespace);
        }
    }

    public void Dispose()
    {
        lock (_relays)
        {
            foreach (var relay in _relays.Values)
                relay.Dispose();
            _relays.Clear();
        }
    }
}
