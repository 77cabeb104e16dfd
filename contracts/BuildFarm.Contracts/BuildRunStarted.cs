namespace BuildFarm.Contracts;

/// <summary>A build server holds a farm-wide slot for the attempt and started building it.</summary>
public sealed record BuildRunStarted
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public required string ServerId { get; init; }
    /// <summary>The semaphore's fencing token for this grant: only ever grows.</summary>
    public required long FencingToken { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
}
