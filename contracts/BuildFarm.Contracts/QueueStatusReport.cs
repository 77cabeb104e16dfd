namespace BuildFarm.Contracts;

/// <summary>The Scheduler's answer to <see cref="GetQueueStatus"/>.</summary>
public sealed record QueueStatusReport
{
    public required int Queued { get; init; }
    /// <summary>Dispatched, building or being cancelled: holding a place on a build server.</summary>
    public required int Building { get; init; }
    public required int FarmLimit { get; init; }
    public required IReadOnlyDictionary<string, int> QueuedByArchitecture { get; init; }
    public required IReadOnlyDictionary<string, int> BuildingByArchitecture { get; init; }
    public required IReadOnlyDictionary<string, int> QueuedByPriority { get; init; }
    /// <summary>For each architecture an online server offers: the estimated wait of a new normal-priority build.</summary>
    public required IReadOnlyList<ArchitectureWait> EstimatedWait { get; init; }
    public required DateTimeOffset At { get; init; }
}

/// <summary>The estimated wait of a new build for one architecture; null when no online server can take it.</summary>
public sealed record ArchitectureWait(string Architecture, TimeSpan? Wait, string? WhyWaiting);
