using System.Diagnostics;

namespace BuildFarm.Worker.Tests.Support;

/// <summary>Runs the real git for a test's own checks.</summary>
public static class Git
{
    public static (int ExitCode, string Output) Run(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result.Trim() + error);
    }

    /// <summary>The full hash <paramref name="revision"/> names in the bare repository, or null.</summary>
    public static string? Resolve(string gitDirectory, string revision)
    {
        var (code, output) = Run(gitDirectory, "--git-dir=" + gitDirectory, "rev-parse", "--verify", "--quiet", revision + "^{commit}");
        return code == 0 ? output.Trim() : null;
    }
}
