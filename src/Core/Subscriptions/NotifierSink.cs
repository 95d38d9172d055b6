using Kmonitor.Registrations;
using Kmonitor.Signals;

namespace Kmonitor.Subscriptions;

/// <summary>
/// The engine's sink in the daemon: each match leaves through the <see cref="Notifier"/>, as a record
/// on the subscription's file (signal 0) or as its queued signal, with the subscription's id in the
/// record's watch field. The subscription's File is its <see cref="DeviceFile"/>, its Monitor the
/// <see cref="MonitorProcess"/> that subscribed (whose pid namespace records are translated into).
/// </summary>
public sealed class NotifierSink(Notifier notifier) : ISubscriptionSink
{
    public void Deliver(Subscription subscription, in SubscriptionEvent e)
    {
        if (subscription.Cancelled)
            return; // UNSUBSCRIBE has returned (or the file closed): the engine removes it next
        notifier.Notify((DeviceFile)subscription.File, (MonitorProcess)subscription.Monitor!, subscription.Signal, subscription.Id,
            new Notification(e.Bit, e.Pid, e.Tgid, e.Ppid, e.Uid, e.Status, e.TimeNs, e.Comm));
    }
}
