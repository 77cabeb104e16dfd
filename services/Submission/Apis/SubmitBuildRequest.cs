using BuildFarm.Contracts;

namespace BuildFarm.Submission.Apis;

/// <summary>The body of POST /api/v1/builds.</summary>
public sealed record SubmitBuildRequest
{
    /// <summary>Git repository: https://, ssh://, git:// (file:// on a local farm only).</summary>
    public string? SourceRepository { get; init; }
    public string? Branch { get; init; }
    /// <summary>The commit to build (7 to 40 hex digits, or 64 for SHA-256 repositories).</summary>
    public string? CommitHash { get; init; }
    public string? TargetArchitecture { get; init; }
    /// <summary>rpmbuild or mock:&lt;config&gt;.</summary>
    public string? Toolchain { get; init; }
    /// <summary>The spec file, relative to the repository's root; by default the one *.spec there.</summary>
    public string? SpecPath { get; init; }
    /// <summary>low, normal (default), high or urgent.</summary>
    public string? Priority { get; init; }
    /// <summary>A build server id, or "auto" (default).</summary>
    public string? ServerId { get; init; }

    public BuildRequested ToMessage(Guid buildId, string submittedBy, DateTimeOffset submittedAt) => new()
    {
        BuildId = buildId,
        SourceRepository = SourceRepository ?? "",
        Branch = Branch ?? "",
        CommitHash = CommitHash ?? "",
        TargetArchitecture = TargetArchitecture ?? "",
        Toolchain = Toolchain ?? "",
        SpecPath = SpecPath,
        Priority = Priority,
        ServerId = ServerId,
        SubmittedBy = submittedBy,
        SubmittedAt = submittedAt,
    };
}
