using Kmonitor.Subscriptions;

namespace Kmonitor.Tests.Unit.Support;

/// <summary>The subscription engine's sink as a recorder: every delivery, in order.</summary>
public sealed class RecordingSink : ISubscriptionSink
{
    public List<(Subscription Subscription, SubscriptionEvent Event)> Delivered { get; } = [];

    public void Deliver(Subscription subscription, in SubscriptionEvent e) => Delivered.Add((subscription, e));

    /// <summary>What <paramref name="subscription"/> was told, in order.</summary>
    public List<SubscriptionEvent> To(Subscription subscription) =>
        Delivered.Where(d => d.Subscription == subscription).Select(d => d.Event).ToList();

    /// <summary>(bit, pid) of what <paramref name="subscription"/> was told, in order.</summary>
    public List<(int Bit, int Pid)> Bits(Subscription subscription) => To(subscription).Select(e => (e.Bit, e.Pid)).ToList();

    public void Clear() => Delivered.Clear();
}
