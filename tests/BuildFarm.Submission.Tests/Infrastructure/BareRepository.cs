using System.Diagnostics;

namespace BuildFarm.Submission.Tests.Infrastructure;

/// <summary>
/// A bare git repository (the "remote" a project points at, as file:///...) with a working clone that commits a
/// spec and pushes to branch main.
/// </summary>
public sealed class BareRepository : IDisposable
{
    private readonly TempDirectory _directory = new("bfsub-git");
    private int _version;

    public BareRepository()
    {
        Git(_directory.Path, "init", "--quiet", "--bare", "--initial-branch=main", "remote.git");
        Git(_directory.Path, "init", "--quiet", "--initial-branch=main", "work");
        Git(WorkPath, "remote", "add", "origin", BarePath);
        Head = Push();
    }

    public string BarePath => Path.Combine(_directory.Path, "remote.git");

    public string Url => "file://" + BarePath;

    /// <summary>The head of main on the remote.</summary>
    public string Head { get; private set; }

    private string WorkPath => Path.Combine(_directory.Path, "work");

    /// <summary>Commits a new version of the spec and pushes it to main; returns the new head.</summary>
    public string Push()
    {
        _version++;
        File.WriteAllText(Path.Combine(WorkPath, "hello.spec"), $"Name: hello\nVersion: 1.{_version}\nRelease: 1\nSummary: test\nLicense: MIT\n");
        Git(WorkPath, "add", "--", "hello.spec");
        Git(WorkPath, "commit", "--quiet", "-m", $"version 1.{_version}");
        Git(WorkPath, "push", "--quiet", "origin", "main");
        Head = Git(WorkPath, "rev-parse", "HEAD").Trim();
        return Head;
    }

    private static string Git(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["GIT_CONFIG_NOSYSTEM"] = "1";
        start.Environment["GIT_CONFIG_GLOBAL"] = "/dev/null";
        start.Environment["GIT_AUTHOR_NAME"] = start.Environment["GIT_COMMITTER_NAME"] = "BuildFarm tests";
        start.Environment["GIT_AUTHOR_EMAIL"] = start.Environment["GIT_COMMITTER_EMAIL"] = "tests@buildfarm.invalid";
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed: {errors.Result}");
        }
        return output;
    }

    public void Dispose() => _directory.Dispose();
}
