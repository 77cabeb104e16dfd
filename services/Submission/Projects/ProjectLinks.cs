namespace BuildFarm.Submission.Projects;

/// <summary>Where to go next from a project: itself, its sync trigger and its last build.</summary>
public sealed record ProjectLinks(string Self, string Sync, string? LastBuild)
{
    public static ProjectLinks For(Project p) => new(
        $"/api/v1/projects/{p.Id}",
        $"/api/v1/projects/{p.Id}/sync",
        p.LastBuildId is { } build ? $"/api/v1/builds/{build}" : null);
}
