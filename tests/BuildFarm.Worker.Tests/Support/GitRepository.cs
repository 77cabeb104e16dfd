using System.Diagnostics;
using BuildFarm.Testing;

namespace BuildFarm.Worker.Tests.Support;

/// <summary>A local git repository made by the test (git init), with a tiny spec on branch main.</summary>
public sealed class GitRepository : IDisposable
{
    private readonly TempDirectory _directory = new("bfrepo");

    public GitRepository(string specName = "hello.spec", string version = "1.0")
    {
        Git("init", "--quiet", "--initial-branch=main");
        Git("config", "user.email", "tests@buildfarm.invalid");
        Git("config", "user.name", "BuildFarm tests");
        Commit(specName, Spec(version), $"version {version}");
    }

    public string Path => _directory.Path;

    public string Url => "file://" + Path;

    /// <summary>The commits made, oldest first.</summary>
    public List<string> Commits { get; } = [];

    public string Head => Commits[^1];

    public string Commit(string file, string content, string message)
    {
        var full = System.IO.Path.Combine(Path, file);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        Git("add", "--", file);
        Git("commit", "--quiet", "-m", message);
        var head = Git("rev-parse", "HEAD").Trim();
        Commits.Add(head);
        return head;
    }

    public static string Spec(string version, string extra = "") => $"""
        Name: hello
        Version: {version}
        Release: 1
        Summary: A tiny test package
        License: MIT
        BuildArch: noarch

        %description
        A tiny package built by the worker tests.

        %install
        mkdir -p %{"{"}buildroot{"}"}/usr/share/hello
        echo hello > %{"{"}buildroot{"}"}/usr/share/hello/hello.txt
        {extra}

        %files
        /usr/share/hello/hello.txt
        """;

    public string Git(params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = Path, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', arguments)} failed: {error}");
        }
        return output;
    }

    public void Dispose() => _directory.Dispose();
}
