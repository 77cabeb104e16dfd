namespace BuildFarm.Contracts;

/// <summary>Command from the Scheduler to a build server: stop this attempt (cancel or timeout).</summary>
public sealed record StopBuildRun
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public required BuildRunOutcome As { get; init; }
    public string? Reason { get; init; }
}
