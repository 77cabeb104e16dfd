namespace BuildFarm.Submission.Projects;

/// <summary>What one check of a project did.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Commit">The branch head found (null when the check failed).</param>
/// <param name="BuildId">The build of that commit, when one was submitted (or had been, for the same commit).</param>
/// <param name="NewBuild">True when this check submitted the build; false when the idempotency key found it submitted already.</param>
/// <param name="Error">Why the check failed.</param>
public sealed record ProjectCheckResult(ProjectCheckOutcome Outcome, string? Commit, Guid? BuildId, bool NewBuild, string? Error)
{
    public static ProjectCheckResult NotFound { get; } = new(ProjectCheckOutcome.NotFound, null, null, false, null);

    public static ProjectCheckResult Unchanged(string commit) => new(ProjectCheckOutcome.Unchanged, commit, null, false, null);

    public static ProjectCheckResult Submitted(string commit, Guid buildId, bool newBuild) =>
        new(ProjectCheckOutcome.Submitted, commit, buildId, newBuild, null);

    public static ProjectCheckResult Failed(string error) => new(ProjectCheckOutcome.Failed, null, null, false, error);
}

