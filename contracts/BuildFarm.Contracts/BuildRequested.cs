namespace BuildFarm.Contracts;

/// <summary>
/// A request to build. Published by the Submission gateway after validation, or by any other
/// service straight onto the bus; the Scheduler validates it again with the same rules. So every
/// field is optional and a plain string: a missing or bad value becomes a <see cref="BuildRejected"/>
/// naming the field, never a fault.
/// </summary>
public sealed record BuildRequested
{
    public Guid BuildId { get; init; }
    public string? SourceRepository { get; init; }
    public string? Branch { get; init; }
    public string? CommitHash { get; init; }
    public string? TargetArchitecture { get; init; }
    public string? Toolchain { get; init; }
    public string? SpecPath { get; init; }
    /// <summary>low, normal, high or urgent (case-insensitive).</summary>
    public string? Priority { get; init; }
    /// <summary>A build server id, or "auto" (the default) to let the Scheduler choose.</summary>
    public string? ServerId { get; init; }
    public string? SubmittedBy { get; init; }
    public DateTimeOffset? SubmittedAt { get; init; }
}
