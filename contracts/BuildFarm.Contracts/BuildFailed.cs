namespace BuildFarm.Contracts;

/// <summary>Published by the Scheduler when a build ends without success (failed or timed out).</summary>
public sealed record BuildFailed
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public string? ServerId { get; init; }
    /// <summary>Failed or TimedOut.</summary>
    public required string State { get; init; }
    public required string Reason { get; init; }
    public int? ExitCode { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public TimeSpan? Duration { get; init; }
}
