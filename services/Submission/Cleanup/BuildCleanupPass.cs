namespace BuildFarm.Submission.Cleanup;

/// <summary>What one cleanup pass did.</summary>
/// <param name="Ran">False when cleanup is off (cleanupBuildsAfterDays ≤ 0), another instance was cleaning, or there is no build table yet.</param>
/// <param name="Builds">Builds marked cleaned.</param>
/// <param name="LogBatches">Stored log batches deleted.</param>
/// <param name="ArtifactFiles">Artifact files deleted from the store.</param>
/// <param name="SharedArtifacts">Artifacts kept because a build that is not cleaned still references their content.</param>
public sealed record BuildCleanupPass(bool Ran, int Builds, long LogBatches, int ArtifactFiles, int SharedArtifacts)
{
    public static BuildCleanupPass Skipped { get; } = new(false, 0, 0, 0, 0);
}
