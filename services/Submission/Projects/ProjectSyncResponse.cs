namespace BuildFarm.Submission.Projects;

/// <summary>The answer to POST /api/v1/projects/{id}/sync: what the check did, and the project after it.</summary>
public sealed record ProjectSyncResponse(
    ProjectCheckOutcome Outcome,
    string? Commit,
    Guid? BuildId,
    bool NewBuild,
    string? Error,
    ProjectResponse Project);
