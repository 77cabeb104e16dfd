using System.Diagnostics;

namespace BuildFarm.Testing;

/// <summary>Where the checkout is, which configuration the tests were built in, and sample repositories.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// Debug or Release: the services are started from the same configuration as the tests, read from the output
    /// folder <c>bin/&lt;Configuration&gt;/net10.0/</c> (its trailing separator trimmed, or DirectoryInfo sees one level more).
    /// </summary>
    public static string Configuration { get; } =
        new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)) is { Name: var tfm } output
            && tfm.StartsWith("net", StringComparison.Ordinal)
            ? output.Parent!.Name
            : "Debug";

    /// <summary>
    /// The stand-in mock, copied where the unprivileged build user can run it (the checkout may be in a folder only
    /// root can enter): one copy per test process, in a world-readable folder under /tmp.
    /// </summary>
    public static string StandInMock { get; } = CopyStandInMock();

    private static string CopyStandInMock()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"buildfarm-stand-in-mock-{Environment.ProcessId}");
        Directory.CreateDirectory(directory);
        var target = Path.Combine(directory, "mock");
        File.Copy(Path.Combine(Root, "tests", "mock", "mock"), target, overwrite: true);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(target, (UnixFileMode)0b111_101_101);
        }
        return target;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BuildFarm.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("BuildFarm.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Turns a folder into a bare git repository with one commit on main; returns the commit.</summary>
    public static string MakeGitRepository(string sourceDir, string repoDir)
    {
        var start = new ProcessStartInfo(Path.Combine(Root, "scripts", "make-sample-repo.sh"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(sourceDir);
        start.ArgumentList.Add(repoDir);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"make-sample-repo.sh failed ({process.ExitCode}): {stderr}");
        }
        return stdout.Trim();
    }
}
