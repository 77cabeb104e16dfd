namespace BuildFarm.Submission.Projects;

/// <summary>What one sync pass over the due projects did.</summary>
public sealed record ProjectSyncPass(ProjectSyncPassStatus Status, int Checked, int Submitted, int Failed)
{
    public static ProjectSyncPass Disabled { get; } = new(ProjectSyncPassStatus.Disabled, 0, 0, 0);

    public static ProjectSyncPass Busy { get; } = new(ProjectSyncPassStatus.Busy, 0, 0, 0);
}

