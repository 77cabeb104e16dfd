namespace BuildFarm.Contracts;

/// <summary>A build server holds a farm-wide slot for the attempt and started building it.</summary>
public sealed record BuildRunStarted
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public required string ServerId { get; init; }
    /// <summary>
    /// The Worker process that runs the attempt (a new id at each start of the Worker); null from servers that do not report it.
    /// The Scheduler declares lost the attempts of an earlier process of the server as soon as a later one reports.
    /// </summary>
    public Guid? InstanceId { get; init; }
    /// <summary>The semaphore's fencing token for this grant: only ever grows.</summary>
    public required long FencingToken { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
}
