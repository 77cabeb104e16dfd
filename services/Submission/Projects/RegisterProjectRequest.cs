using BuildFarm.Contracts;

namespace BuildFarm.Submission.Projects;

/// <summary>The body of POST /api/v1/projects: the build parameters of POST /api/v1/builds, without a commit, and a name.</summary>
public sealed record RegisterProjectRequest
{
    /// <summary>Unique: letters, digits, '.', '_' and '-', starting with a letter or digit; at most 100 characters.</summary>
    public string? Name { get; init; }
    /// <summary>Git repository: https://, ssh://, git:// (file:// on a local farm only).</summary>
    public string? SourceRepository { get; init; }
    /// <summary>The branch whose head is built each time it moves.</summary>
    public string? Branch { get; init; }
    public string? TargetArchitecture { get; init; }
    /// <summary>rpmbuild or mock:&lt;config&gt;.</summary>
    public string? Toolchain { get; init; }
    /// <summary>The spec file, relative to the repository's root; by default the one *.spec there.</summary>
    public string? SpecPath { get; init; }
    /// <summary>low, normal (default), high or urgent.</summary>
    public string? Priority { get; init; }
    /// <summary>A build server id, or "auto" (default).</summary>
    public string? ServerId { get; init; }

    public Project ToProject(Guid id, string owner, DateTimeOffset createdAt) => new()
    {
        Id = id,
        Name = Name ?? "",
        Repository = SourceRepository ?? "",
        Branch = Branch ?? "",
        Parameters = new ProjectParameters(TargetArchitecture ?? "", Toolchain ?? "",
            string.IsNullOrEmpty(SpecPath) ? null : SpecPath, Priority, ServerId),
        Owner = owner,
        CreatedAt = createdAt,
    };

    /// <summary>A build of this project at some commit, for checking the parameters with the build request rules.</summary>
    internal BuildRequested ToSampleBuildRequest() =>
        ToProject(Guid.NewGuid(), "validation", DateTimeOffset.UnixEpoch)
            .ToBuildRequest(Guid.NewGuid(), new string('0', 40), DateTimeOffset.UnixEpoch);
}
