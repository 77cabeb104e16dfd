using BuildFarm.Contracts;
using BuildFarm.Persistence.Outbox;
using MassTransit;

namespace BuildFarm.Scheduler.Dispatch;

/// <summary>
/// Wakes the dispatcher the moment a transaction of this Scheduler commits an event that queues a build or frees a place
/// on a server (<see cref="BuildQueued"/>, <see cref="BuildCompleted"/>, <see cref="BuildFailed"/>,
/// <see cref="BuildCancelled"/>): the saga, the deadline monitor and the heartbeat consumer all end in one of them. The
/// pass sees the committed state; waiting for the broker to hand the event back would add the relay and a round trip to
/// every slot hand-off (and a delivery per event).
/// </summary>
public sealed class DispatchOnCommit(DispatchSignal dispatch) : IOutboxCommitObserver
{
    private static readonly HashSet<string> Wakes =
    [
        MessageUrn.ForTypeString<BuildQueued>(),
        MessageUrn.ForTypeString<BuildCompleted>(),
        MessageUrn.ForTypeString<BuildFailed>(),
        MessageUrn.ForTypeString<BuildCancelled>(),
    ];

    public void Committed(IReadOnlyList<IReadOnlyList<string>> messageTypes)
    {
        ArgumentNullException.ThrowIfNull(messageTypes);
        if (messageTypes.Any(types => types.Any(Wakes.Contains)))
        {
            dispatch.Poke();
        }
    }
}
