namespace BuildFarm.Contracts;

/// <summary>The Scheduler's answer to <see cref="GetBuildStatus"/>.</summary>
public sealed record BuildStatusReport
{
    public required Guid BuildId { get; init; }
    /// <summary>False when the Scheduler has no such build (yet).</summary>
    public required bool Found { get; init; }
    public string? State { get; init; }
    public int Attempt { get; init; }
    public string? ServerId { get; init; }
    /// <summary>While queued: 1-based position among the queued builds that compete for the same build servers.</summary>
    public int? QueuePosition { get; init; }
    /// <summary>While queued: how many queued builds compete for the same build servers, this one included.</summary>
    public int? CompetingBuilds { get; init; }
    /// <summary>While queued: when it should start, from measured durations and current capacity; null when no server can take it.</summary>
    public DateTimeOffset? EstimatedStartAt { get; init; }
    /// <summary>The duration expected for this build (measured for its repository, architecture and toolchain, or a default).</summary>
    public TimeSpan? EstimatedDuration { get; init; }
    /// <summary>What the estimated duration is based on, e.g. "median of 12 builds of this repository".</summary>
    public string? EstimateBasis { get; init; }
    /// <summary>While running: when it should finish.</summary>
    public DateTimeOffset? EstimatedFinishAt { get; init; }
    /// <summary>While queued: why it is not running, in words.</summary>
    public string? WhyWaiting { get; init; }
    public string? EffectivePriority { get; init; }
    public DateTimeOffset At { get; init; }
}
