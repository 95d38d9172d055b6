using Kmonitor.Interop;
using Kmonitor.Registrations;

namespace Kmonitor.Signals;

/// <summary>Sends the 2004 driver's notification: a queued signal whose siginfo describes the event.</summary>
public static unsafe class SignalSender
{
    /// <summary>
    /// Queues <paramref name="signal"/> to the monitor with si_code = SI_QUEUE, si_pid = the task the
    /// event is about, si_uid = its real uid and si_int = the event bit. Returns 0 or the errno:
    /// ESRCH when the monitor has exited, EAGAIN when its queue of pending signals is full.
    /// </summary>
    public static int Send(MonitorProcess monitor, int signal, int subjectPid, uint subjectUid, int eventBit)
    {
        var info = new SigInfo
        {
            Signo = signal,
            Code = SigInfo.SI_QUEUE,
            Queued = new SigInfo.QueuedFields { Pid = subjectPid, Uid = subjectUid, Value = new SigInfo.SigVal { Int = eventBit } },
        };
        try
        {
            return Pidfd.pidfd_send_signal(monitor.Pidfd, signal, &info, 0) == 0 ? 0 : Errno.Last;
        }
        catch (ObjectDisposedException)
        {
            return Errno.ESRCH; // the file was closed while this notification was on its way
        }
    }
}
