using BuildFarm.Worker.Builds;

namespace BuildFarm.Worker.Tests;

public sealed class Choosing_the_commit_to_build : IAsyncLifetime
{
    private readonly GitRepository _repository = new();
    private TestWorker _worker = null!;

    public Task InitializeAsync()
    {
        _worker = new TestWorker();
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData("HEAD")]
    [InlineData("")]
    public async Task The_tip_of_the_branch_is_built_and_reported_as_its_full_commit(string commit)
    {
        await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head)); // the mirror now knows 1.0
        var tip = _repository.Commit("hello.spec", GitRepository.Spec("2.0"), "version 2.0");

        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, commit));

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Equal(tip, finished.Commit);
        Assert.Contains(finished.Artifacts, a => a.Name == "hello-2.0-1.noarch.rpm");
    }

    [Fact]
    public async Task A_named_commit_is_reported_as_its_full_commit()
    {
        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head[..8]));

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Equal(_repository.Head, finished.Commit);
    }

    [Fact]
    public async Task A_commit_that_is_only_on_another_branch_is_refused_with_a_reason()
    {
        _repository.Git("checkout", "--quiet", "-b", "feature");
        var elsewhere = _repository.Commit("hello.spec", GitRepository.Spec("9.0"), "only on feature");
        _repository.Git("checkout", "--quiet", "main");

        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, elsewhere));
        var onItsBranch = await _worker.BuildAsync(TestWorker.Request(_repository.Url, elsewhere, branch: "feature"));

        Assert.Equal(BuildRunOutcome.BuildFailed, finished.Outcome);
        Assert.Equal($"commit {elsewhere} is not on branch main of {_repository.Url}", finished.Reason);
        Assert.Empty(finished.Artifacts);
        Assert.Equal(BuildRunOutcome.Succeeded, onItsBranch.Outcome);
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        _repository.Dispose();
    }
}
