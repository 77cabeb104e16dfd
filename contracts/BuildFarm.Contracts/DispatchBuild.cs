namespace BuildFarm.Contracts;

/// <summary>Command from the Scheduler to one build server: run this attempt of the build.</summary>
public sealed record DispatchBuild
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public required string ServerId { get; init; }
    public required string SourceRepository { get; init; }
    public required string Branch { get; init; }
    public required string CommitHash { get; init; }
    public required string TargetArchitecture { get; init; }
    public required string Toolchain { get; init; }
    public string? SpecPath { get; init; }
    public required string Priority { get; init; }
    public required DateTimeOffset DispatchedAt { get; init; }
    /// <summary>The longest the build may run before it is stopped and reported as timed out.</summary>
    public required int MaxBuildMinutes { get; init; }
    /// <summary>
    /// How long the attempt may wait for a farm-wide slot once its source is checked out; null: the farm's
    /// slotWaitTimeoutSeconds. A build placed ahead of a free slot (Scheduler:ReadyAheadPercent) may wait as long as
    /// the longest build runs, and the farm's wait on top.
    /// </summary>
    public int? SlotWaitTimeoutSeconds { get; init; }
}
