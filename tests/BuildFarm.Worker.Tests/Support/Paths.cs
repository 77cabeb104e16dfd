namespace BuildFarm.Worker.Tests.Support;

/// <summary>Where the repository's test tools are.</summary>
public static class Paths
{
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>The stand-in mock (tests/mock/mock).</summary>
    public static string StandInMock => BuildFarm.Testing.Repository.StandInMock;

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "tests", "mock", "mock")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("tests/mock/mock not found above " + AppContext.BaseDirectory);
    }
}
