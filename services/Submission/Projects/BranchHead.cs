namespace BuildFarm.Submission.Projects;

/// <summary>What <c>git ls-remote</c> said about a branch: its head commit, or why it could not tell.</summary>
public sealed record BranchHead(string? Commit, string? Error)
{
    public static BranchHead Found(string commit) => new(commit, null);

    public static BranchHead Failed(string error) => new(null, error);
}
