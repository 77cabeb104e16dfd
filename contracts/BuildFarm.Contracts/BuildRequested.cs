namespace BuildFarm.Contracts;

/// <summary>
/// A request to build. Published by the Submission gateway after validation, or by any other
/// service straight onto the bus; the Scheduler validates it again with the same rules, so the
/// fields are plain strings: a bad value becomes a <see cref="BuildRejected"/>, never a fault.
/// </summary>
public sealed record BuildRequested
{
    public required Guid BuildId { get; init; }
    public required string SourceRepository { get; init; }
    public required string Branch { get; init; }
    public required string CommitHash { get; init; }
    public required string TargetArchitecture { get; init; }
    public required string Toolchain { get; init; }
    public string? SpecPath { get; init; }
    /// <summary>low, normal, high or urgent (case-insensitive).</summary>
    public string? Priority { get; init; }
    /// <summary>A build server id, or "auto" (the default) to let the Scheduler choose.</summary>
    public string? ServerId { get; init; }
    public string? SubmittedBy { get; init; }
    public DateTimeOffset? SubmittedAt { get; init; }
}
