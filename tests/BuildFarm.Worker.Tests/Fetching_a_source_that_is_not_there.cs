namespace BuildFarm.Worker.Tests;

public sealed class Fetching_a_source_that_is_not_there : IAsyncLifetime
{
    private readonly GitRepository _repository = new();
    private TestWorker _worker = null!;

    public Task InitializeAsync()
    {
        _worker = new TestWorker();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Fails_the_build_naming_a_repository_that_does_not_exist()
    {
        var url = $"file:///nonexistent/{Guid.NewGuid():N}/repo.git";

        var finished = await _worker.BuildAsync(TestWorker.Request(url, "abcdef1"));

        Assert.Equal(BuildRunOutcome.BuildFailed, finished.Outcome);
        Assert.Contains(url, finished.Reason);
        Assert.Contains("does not exist or cannot be read", finished.Reason);
    }

    [Fact]
    public async Task Fails_the_build_naming_a_branch_that_does_not_exist()
    {
        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head, branch: "no-such-branch"));

        Assert.Equal(BuildRunOutcome.BuildFailed, finished.Outcome);
        Assert.Contains("branch no-such-branch does not exist", finished.Reason);
    }

    [Fact]
    public async Task Fails_the_build_when_the_commit_is_not_on_the_branch()
    {
        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, "0123456789abcdef0123456789abcdef01234567"));

        Assert.Equal(BuildRunOutcome.BuildFailed, finished.Outcome);
        Assert.Contains("commit 0123456789abcdef0123456789abcdef01234567 was not found", finished.Reason);
    }

    [Fact]
    public async Task Fails_the_build_when_the_spec_path_is_not_in_the_repository()
    {
        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head, specPath: "packaging/other.spec"));

        Assert.Equal(BuildRunOutcome.BuildFailed, finished.Outcome);
        Assert.Contains("packaging/other.spec", finished.Reason);
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        _repository.Dispose();
    }
}
