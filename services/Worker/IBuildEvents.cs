namespace BuildFarm.Worker;

/// <summary>Where the worker's events go: the bus in the service, a recorder in tests.</summary>
public interface IBuildEvents
{
    Task PublishAsync<T>(T message, CancellationToken cancellationToken) where T : class;
}
