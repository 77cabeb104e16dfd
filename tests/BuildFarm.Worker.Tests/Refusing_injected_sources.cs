using BuildFarm.Testing;

namespace BuildFarm.Worker.Tests;

public sealed class Refusing_injected_sources : IAsyncLifetime
{
    private readonly GitRepository _repository = new();
    private readonly TempDirectory _directory = new("bfinject");
    private TestWorker _worker = null!;

    /// <summary>Touched by the stand-in git whenever the worker runs git at all.</summary>
    private string GitRan => Path.Combine(_directory.Path, "git-ran");

    /// <summary>What an injected command would create.</summary>
    private string Injected => Path.Combine(_directory.Path, "injected");

    public Task InitializeAsync()
    {
        var git = Path.Combine(_directory.Path, "git");
        File.WriteAllText(git, $"#!/bin/sh\ntouch '{GitRan}'\nexec /usr/bin/git \"$@\"\n");
        File.SetUnixFileMode(git, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _worker = new TestWorker(o =>
        {
            o.GitCommand = git;
            o.AllowFileRepositories = false;
        });
        return Task.CompletedTask;
    }

    public static TheoryData<string, string> Injections => new()
    {
        { "--upload-pack=touch INJECTED", "main" },
        { "ext::sh -c touch% INJECTED", "main" },
        { "ext::sh", "main" },
        { "; rm -rf /", "main" },
        { "-o", "main" },
        { "file:///REPO", "main" },
        { "REPO", "main" },
        { "https://user:pass@host.invalid/x", "main" },
        { "https://host.invalid/x", "--upload-pack=touch INJECTED" },
        { "https://host.invalid/x", "-o" },
        { "https://host.invalid/x", "; touch INJECTED" },
        { "https://host.invalid/x", "main..x" },
    };

    [Theory]
    [MemberData(nameof(Injections))]
    public async Task Refuses_them_before_git_runs(string url, string branch)
    {
        url = url.Replace("INJECTED", Injected, StringComparison.Ordinal).Replace("REPO", _repository.Path.TrimStart('/'), StringComparison.Ordinal);
        if (url == _repository.Path.TrimStart('/'))
        {
            url = _repository.Path;
        }
        branch = branch.Replace("INJECTED", Injected, StringComparison.Ordinal);

        var finished = await _worker.BuildAsync(TestWorker.Request(url, _repository.Head, branch: branch));

        Assert.Equal(BuildRunOutcome.BuildFailed, finished.Outcome);
        Assert.StartsWith("invalid source:", finished.Reason);
        Assert.False(File.Exists(GitRan), "git ran");
        Assert.False(File.Exists(Injected), "the injected command ran");
        Assert.Null(finished.FencingToken); // refused before it even took a build slot
    }

    [Fact]
    public async Task Lets_a_valid_source_reach_git()
    {
        // The stand-in git that the refusals above never ran does run for a valid (remote, unreachable) source.
        var finished = await _worker.BuildAsync(TestWorker.Request("https://host.invalid/owner/repo.git", _repository.Head));

        Assert.True(File.Exists(GitRan));
        Assert.NotEqual(BuildRunOutcome.Succeeded, finished.Outcome);
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        _repository.Dispose();
        _directory.Dispose();
    }
}
