namespace BuildFarm.Submission.Tests.Infrastructure;

/// <summary>The test classes that share one hosted Submission service (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class SubmissionAppCollection : ICollectionFixture<SubmissionApp>
{
    public const string Name = "Submission app";
}
