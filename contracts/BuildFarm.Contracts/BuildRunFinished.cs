namespace BuildFarm.Contracts;

/// <summary>A build server finished an attempt, whatever the outcome.</summary>
public sealed record BuildRunFinished
{
    public required Guid BuildId { get; init; }
    public required int Attempt { get; init; }
    public required string ServerId { get; init; }
    public required BuildRunOutcome Outcome { get; init; }
    /// <summary>Why it did not succeed, in words a person can act on.</summary>
    public string? Reason { get; init; }
    public int? ExitCode { get; init; }
    public long? FencingToken { get; init; }
    public required DateTimeOffset FinishedAt { get; init; }
    public IReadOnlyList<Artifact> Artifacts { get; init; } = [];
    /// <summary>The full commit the attempt checked out (the branch's tip for a request that named HEAD); null before checkout.</summary>
    public string? Commit { get; init; }
}
