using BuildFarm.Contracts;
using BuildFarm.Submission.Builds;

namespace BuildFarm.Submission.Apis;

/// <summary>A build as GET /api/v1/builds/{id} shows it.</summary>
public sealed record BuildResponse(
    Guid Id,
    string State,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? ServerId,
    string SourceRepository,
    string Branch,
    string CommitHash,
    string TargetArchitecture,
    string Toolchain,
    string? SpecPath,
    string Priority,
    string RequestedServerId,
    string SubmittedBy,
    int Attempt,
    string? Reason,
    int? ExitCode,
    double? DurationSeconds,
    IReadOnlyList<ArtifactResponse> Artifacts,
    IReadOnlyList<HistoryEntry> History,
    DateTimeOffset? CleanedAt,
    BuildLinks Links)
{
    public static BuildResponse From(BuildRecord b) => new(
        b.CorrelationId, b.CurrentState, b.SubmittedAt, b.StartedAt, b.FinishedAt, b.ServerId,
        b.SourceRepository, b.Branch, b.CommitHash, b.TargetArchitecture, b.Toolchain, b.SpecPath, b.Priority,
        b.RequestedServerId ?? "auto", b.SubmittedBy, b.Attempt, b.Reason, b.ExitCode, b.Duration?.TotalSeconds,
        [.. b.Artifacts.Select(a => ArtifactResponse.From(b.CorrelationId, a))], b.History, b.CleanedAt, BuildLinks.For(b.CorrelationId));
}

/// <summary>An artifact with the address to download it.</summary>
public sealed record ArtifactResponse(string Name, long Size, string Sha256, string Kind, string Url)
{
    public static ArtifactResponse From(Guid buildId, Artifact a) =>
        new(a.Name, a.Size, a.Sha256, a.Kind, $"/api/v1/builds/{buildId}/artifacts/{Uri.EscapeDataString(a.Name)}");
}

/// <summary>Where to go next from a build.</summary>
public sealed record BuildLinks(string Self, string Logs, string Artifacts, string Cancel)
{
    public static BuildLinks For(Guid id) => new(
        $"/api/v1/builds/{id}", $"/api/v1/builds/{id}/logs", $"/api/v1/builds/{id}/artifacts", $"/api/v1/builds/{id}/cancel");
}

/// <summary>The answer to a submission.</summary>
public sealed record SubmitBuildResponse(Guid Id, string State, BuildLinks Links);
