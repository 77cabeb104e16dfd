namespace BuildFarm.Submission.Projects;

/// <summary>A project as GET /api/v1/projects/{id} shows it.</summary>
public sealed record ProjectResponse(
    Guid Id,
    string Name,
    string SourceRepository,
    string Branch,
    string TargetArchitecture,
    string Toolchain,
    string? SpecPath,
    string Priority,
    string ServerId,
    string Owner,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastCheckedAt,
    string? LastSeenCommit,
    Guid? LastBuildId,
    string? LastError,
    ProjectLinks Links)
{
    public static ProjectResponse From(Project p) => new(
        p.Id, p.Name, p.Repository, p.Branch, p.Parameters.TargetArchitecture, p.Parameters.Toolchain, p.Parameters.SpecPath,
        string.IsNullOrWhiteSpace(p.Parameters.Priority) ? "normal" : p.Parameters.Priority.Trim().ToLowerInvariant(),
        Domain.ServerIds.Normalise(p.Parameters.ServerId) ?? "auto",
        p.Owner, p.CreatedAt, p.LastCheckedAt, p.LastSeenCommit, p.LastBuildId, p.LastError, ProjectLinks.For(p));
}
