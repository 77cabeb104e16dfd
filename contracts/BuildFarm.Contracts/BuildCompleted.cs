namespace BuildFarm.Contracts;

/// <summary>Published by the Scheduler when a build ends with its artifacts.</summary>
public sealed record BuildCompleted
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public required string ServerId { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public required TimeSpan Duration { get; init; }
    public required IReadOnlyList<Artifact> Artifacts { get; init; }
}
