using BuildFarm.Worker.Builds;
using BuildFarm.Worker.Sources;

namespace BuildFarm.Worker.Tests;

public sealed class Building_a_repository_again : IAsyncLifetime
{
    private readonly GitRepository _repository = new();
    private readonly RecordingGit _git = new();
    private TestWorker _worker = null!;

    public Task InitializeAsync()
    {
        _worker = new TestWorker(o => o.GitCommand = _git.Command);
        return Task.CompletedTask;
    }

    private RepositoryCache Cache => _worker.Get<RepositoryCache>();

    private string Mirror => Cache.MirrorPathOf(_repository.Url);

    [Fact]
    public async Task Reuses_its_mirror_and_fetches_only_the_new_commit()
    {
        var first = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head));
        Assert.Equal(BuildRunOutcome.Succeeded, first.Outcome);
        Assert.Equal(1, _git.MirrorClones);
        Assert.Equal(0, _git.MirrorFetches);
        var packsBefore = Directory.GetFiles(Path.Combine(Mirror, "objects"), "*", SearchOption.AllDirectories).Length;

        var second = _repository.Commit("hello.spec", GitRepository.Spec("1.1"), "version 1.1");
        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, second));

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Contains(finished.Artifacts, a => a.Name == "hello-1.1-1.noarch.rpm");
        Assert.Equal(1, _git.MirrorClones);
        Assert.Equal(1, _git.MirrorFetches);
        Assert.Equal([Path.GetFileName(Mirror)], Directory.GetDirectories(Cache.Root).Select(Path.GetFileName));
        Assert.True(File.Exists(Path.Combine(Mirror, "FETCH_HEAD")));
        Assert.Equal(second, Git.Resolve(Mirror, "refs/heads/main"));
        Assert.True(Directory.GetFiles(Path.Combine(Mirror, "objects"), "*", SearchOption.AllDirectories).Length > packsBefore);
    }

    [Fact]
    public async Task Does_not_fetch_for_a_commit_the_mirror_already_has()
    {
        var first = _repository.Head;
        _repository.Commit("hello.spec", GitRepository.Spec("1.1"), "version 1.1");
        Assert.Equal(BuildRunOutcome.Succeeded, (await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head))).Outcome);

        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, first[..10]));

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Contains(finished.Artifacts, a => a.Name == "hello-1.0-1.noarch.rpm");
        Assert.Equal(1, _git.MirrorClones);
        Assert.Equal(0, _git.MirrorFetches);
    }

    [Fact]
    public async Task Checks_out_a_commit_the_mirror_has_with_four_git_processes()
    {
        Assert.Equal(BuildRunOutcome.Succeeded, (await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head))).Outcome);
        var before = _git.Invocations.Count;

        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head));

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Equal(_repository.Head, finished.Commit);
        // One look into the mirror, then init, fetch and checkout in the workspace (no git process of the build's own).
        Assert.Collection(_git.Invocations.Skip(before),
            i => Assert.StartsWith($"--git-dir={Mirror} rev-parse refs/heads/main^{{commit}} {_repository.Head}^{{commit}} --", i),
            i => Assert.StartsWith("init", i),
            i => Assert.Contains(" fetch --quiet --depth 1 ", i),
            i => Assert.Contains(" checkout --quiet --detach ", i));
    }

    [Fact]
    public async Task Fetches_a_branch_made_after_the_mirror()
    {
        Assert.Equal(BuildRunOutcome.Succeeded, (await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head))).Outcome);
        _repository.Git("branch", "release");

        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head, branch: "release"));

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Equal(1, _git.MirrorFetches);
    }

    [Fact]
    public async Task Clones_the_mirror_again_when_it_is_damaged()
    {
        Assert.Equal(BuildRunOutcome.Succeeded, (await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head))).Outcome);
        foreach (var file in Directory.GetFiles(Path.Combine(Mirror, "objects"), "*", SearchOption.AllDirectories))
        {
            File.Delete(file);
        }

        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head));

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Equal(2, _git.MirrorClones);
        Assert.Equal(0, Git.Run(Mirror, "--git-dir=" + Mirror, "fsck", "--full").ExitCode);
    }

    [Fact]
    public async Task Clones_the_mirror_again_when_it_is_not_a_repository_any_more()
    {
        Assert.Equal(BuildRunOutcome.Succeeded, (await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head))).Outcome);
        Directory.Delete(Mirror, recursive: true);
        Directory.CreateDirectory(Mirror);
        File.WriteAllText(Path.Combine(Mirror, "junk"), "not a repository");

        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head));

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Equal(2, _git.MirrorClones);
        Assert.False(File.Exists(Path.Combine(Mirror, "junk")));
    }

    [Fact]
    public async Task Keeps_one_sound_mirror_when_builds_of_the_repository_run_at_once()
    {
        Assert.Equal(BuildRunOutcome.Succeeded, (await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head))).Outcome);
        var head = _repository.Commit("hello.spec", GitRepository.Spec("1.2"), "version 1.2");
        var requests = Enumerable.Range(0, 4).Select(_ => TestWorker.Request(_repository.Url, head)).ToList();

        foreach (var request in requests)
        {
            Assert.Equal(DispatchDecision.Accepted, await _worker.Runner.DispatchAsync(request, CancellationToken.None));
        }
        var finished = await Task.WhenAll(requests.Select(r => _worker.Events.FinishedAsync(r.BuildId, TimeSpan.FromSeconds(90))));

        Assert.All(finished, f => Assert.Equal(BuildRunOutcome.Succeeded, f.Outcome));
        Assert.All(finished, f => Assert.Contains(f.Artifacts, a => a.Name == "hello-1.2-1.noarch.rpm"));
        Assert.Equal(1, _git.MirrorClones);
        Assert.Equal(1, _git.MirrorFetches); // the first build to take the lock fetched; the others found the commit
        Assert.Single(Directory.GetDirectories(Cache.Root));
        Assert.Equal(0, Git.Run(Mirror, "--git-dir=" + Mirror, "fsck", "--full").ExitCode);
    }

    [Fact]
    public async Task Keeps_one_mirror_per_repository()
    {
        using var other = new GitRepository("other.spec", "2.0");

        var finished = await Task.WhenAll(
            _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head)),
            _worker.BuildAsync(TestWorker.Request(other.Url, other.Head)));

        Assert.All(finished, f => Assert.Equal(BuildRunOutcome.Succeeded, f.Outcome));
        Assert.Equal(2, _git.MirrorClones);
        Assert.Equal(
            new[] { Cache.MirrorPathOf(_repository.Url), Cache.MirrorPathOf(other.Url) }.Order(),
            Directory.GetDirectories(Cache.Root).Order());
        Assert.Equal(2, Cache.List().Count);
    }

    [Fact]
    public async Task Still_fails_a_repository_that_does_not_exist_and_keeps_nothing_of_it()
    {
        var url = $"file:///nonexistent/{Guid.NewGuid():N}/repo.git";

        var finished = await _worker.BuildAsync(TestWorker.Request(url, "abcdef1"));

        Assert.Equal(BuildRunOutcome.BuildFailed, finished.Outcome);
        Assert.Contains($"repository {url} does not exist or cannot be read", finished.Reason);
        Assert.Empty(Directory.GetFileSystemEntries(Cache.Root));
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        _repository.Dispose();
        _git.Dispose();
    }
}
