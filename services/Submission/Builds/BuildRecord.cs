using BuildFarm.Contracts;

namespace BuildFarm.Submission.Builds;

/// <summary>
/// A build as the Scheduler's read model shows it (build_view), or as just submitted when the
/// Scheduler has not taken it up yet. Only the fields the API shows.
/// </summary>
public sealed record BuildRecord
{
    public Guid CorrelationId { get; init; }
    public string CurrentState { get; init; } = "Queued";
    public string SourceRepository { get; init; } = "";
    public string Branch { get; init; } = "";
    public string CommitHash { get; init; } = "";
    public string TargetArchitecture { get; init; } = "";
    public string Toolchain { get; init; } = "";
    public string? SpecPath { get; init; }
    public string Priority { get; init; } = "normal";
    public string? RequestedServerId { get; init; }
    public string SubmittedBy { get; init; } = "anonymous";
    public DateTimeOffset SubmittedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public int Attempt { get; init; }
    public string? ServerId { get; init; }
    public string? Reason { get; init; }
    public int? ExitCode { get; init; }
    public TimeSpan? Duration { get; init; }
    public List<Artifact> Artifacts { get; init; } = [];
    public List<HistoryEntry> History { get; init; } = [];
    /// <summary>When the build's logs and artifacts were removed (cleanupBuildsAfterDays); the record stays.</summary>
    public DateTimeOffset? CleanedAt { get; init; }

    public bool IsFinished => BuildStates.Ended.Contains(CurrentState);
}

/// <summary>One transition of a build: when, into which state, on which attempt and server, and why.</summary>
public sealed record HistoryEntry(DateTimeOffset At, string State, int Attempt, string? ServerId, string? Reason);
