namespace Kmonitor.Subscriptions;

/// <summary>
/// What a subscription marker carries to the dispatcher: a subscription to install (SUBSCRIBE waits
/// for <see cref="Installed"/>, the engine's answer), subscriptions to remove, or the end of a
/// takeover's backlog.
/// </summary>
public sealed class SubscriptionChange
{
    private readonly TaskCompletionSource<int>? _installed;
    private readonly bool _backlogHandled;

    private SubscriptionChange(IReadOnlyList<Subscription> subscriptions, bool install, bool backlogHandled = false)
    {
        Subscriptions = subscriptions;
        _backlogHandled = backlogHandled;
        if (install)
            _installed = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public IReadOnlyList<Subscription> Subscriptions { get; }

    /// <summary>SUBSCRIBE's answer: 0, or the errno the engine found (ESRCH, EPERM). Null for a removal.</summary>
    public Task<int>? Installed => _installed?.Task;

    public static SubscriptionChange Install(Subscription subscription) => new([subscription], install: true);

    public static SubscriptionChange Remove(IReadOnlyList<Subscription> subscriptions) => new(subscriptions, install: false);

    /// <summary>Posted behind the events queued during a takeover's gap (<see cref="SubscriptionEngine.ForgetEndedAtTakeover"/>).</summary>
    public static SubscriptionChange TakeoverBacklogHandled() => new([], install: false, backlogHandled: true);

    /// <summary>Applies the change to <paramref name="engine"/> (under the dispatch lock only).</summary>
    public void Apply(SubscriptionEngine engine, ulong nowNs)
    {
        if (_backlogHandled)
        {
            engine.ForgetEndedAtTakeover();
            return;
        }
        if (_installed is null)
        {
            foreach (var subscription in Subscriptions)
                engine.Remove(subscription);
            return;
        }
        var s = Subscriptions[0];
        int error;
        try
        {
            // Cancelled already (closed while waiting): nothing to install, and nobody waits for it.
            error = s.Cancelled ? Interop.Errno.EBADF : engine.Install(s, nowNs);
        }
        catch (Exception e)
        {
            _installed.TrySetException(e);
            throw;
        }
        _installed.TrySetResult(error);
    }
}
