namespace BuildFarm.Contracts;

/// <summary>Published by the Scheduler when a build begins to run on a build server.</summary>
public sealed record BuildStarted
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public required string ServerId { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    /// <summary>How long the build waited between submission and start.</summary>
    public required TimeSpan QueuedFor { get; init; }
}
