using BuildFarm.Contracts;

namespace BuildFarm.Submission.Projects;

/// <summary>A registered project: a repository, a branch and its build parameters, and what its last check found.</summary>
public sealed record Project
{
    public required Guid Id { get; init; }
    public required string Name { get; init; }
    public required string Repository { get; init; }
    public required string Branch { get; init; }
    public required ProjectParameters Parameters { get; init; }
    /// <summary>The user (token <c>sub</c>) who registered it; builds are submitted in this name.</summary>
    public required string Owner { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? LastCheckedAt { get; init; }
    /// <summary>The branch head the last build was submitted for.</summary>
    public string? LastSeenCommit { get; init; }
    public Guid? LastBuildId { get; init; }
    /// <summary>Why the last check failed; null after a good check.</summary>
    public string? LastError { get; init; }

    /// <summary>The request for a build of <paramref name="commit"/>, exactly as POST /api/v1/builds would publish it.</summary>
    public BuildRequested ToBuildRequest(Guid buildId, string commit, DateTimeOffset submittedAt) => new()
    {
        BuildId = buildId,
        SourceRepository = Repository,
        Branch = Branch,
        CommitHash = commit,
        TargetArchitecture = Parameters.TargetArchitecture,
        Toolchain = Parameters.Toolchain,
        SpecPath = Parameters.SpecPath,
        Priority = Parameters.Priority,
        ServerId = Parameters.ServerId,
        SubmittedBy = Owner,
        SubmittedAt = submittedAt,
    };

    /// <summary>The idempotency key of the build for <paramref name="commit"/>: one build per project and commit, ever.</summary>
    public string IdempotencyKey(string commit) => $"project:{Id}:{commit}";
}
