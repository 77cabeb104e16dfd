namespace BuildFarm.Contracts;

/// <summary>The Scheduler accepted the build and it waits for a build server.</summary>
public sealed record BuildQueued
{
    public required Guid BuildId { get; init; }
    public required string Priority { get; init; }
    public required string TargetArchitecture { get; init; }
    public required string Toolchain { get; init; }
    public required DateTimeOffset QueuedAt { get; init; }
    /// <summary>1 for the first queueing, higher when the build is queued again after an infrastructure failure.</summary>
    public required int Attempt { get; init; }
}
