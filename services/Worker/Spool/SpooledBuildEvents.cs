using BuildFarm.Contracts;
using MassTransit;

namespace BuildFarm.Worker.Spool;

/// <summary>
/// The Worker's events on the bus: a build's acceptance, start, log batches and result through the durable
/// <see cref="EventSpool"/> (sent in order once the broker takes them); heartbeats directly.
/// </summary>
internal sealed class SpooledBuildEvents(IBus bus, EventSpool spool) : IBuildEvents
{
    public EventSpool Spool => spool;

    public Task PublishAsync<T>(T message, CancellationToken cancellationToken) where T : class =>
        EventSpool.Takes(message) ? spool.AppendAsync(message, cancellationToken) : bus.Publish(message, cancellationToken);

    /// <summary>How the spool sends: publishes with the message id the spool gave the message.</summary>
    public static Task SendAsync(IBus bus, object message, Guid messageId, CancellationToken cancellationToken) => message switch
    {
        BuildRunAccepted accepted => bus.Publish(accepted, c => c.MessageId = messageId, cancellationToken),
        BuildRunStarted started => bus.Publish(started, c => c.MessageId = messageId, cancellationToken),
        BuildRunFinished finished => bus.Publish(finished, c => c.MessageId = messageId, cancellationToken),
        BuildLogAppended batch => bus.Publish(batch, c => c.MessageId = messageId, cancellationToken),
        _ => throw new ArgumentException($"the spool does not send {message.GetType().Name}", nameof(message)),
    };
}
