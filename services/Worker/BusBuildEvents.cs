using MassTransit;

namespace BuildFarm.Worker;

/// <summary>Publishes the worker's events on the bus.</summary>
internal sealed class BusBuildEvents(IBus bus) : IBuildEvents
{
    public Task PublishAsync<T>(T message, CancellationToken cancellationToken) where T : class =>
        bus.Publish(message, cancellationToken);
}
