using System.Security.Cryptography;
using BuildFarm.Worker.Builds;

namespace BuildFarm.Worker.Tests;

public sealed class Building_with_rpmbuild : IAsyncLifetime
{
    private readonly GitRepository _repository = new();
    private TestWorker _worker = null!;

    public Task InitializeAsync()
    {
        _worker = new TestWorker();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Succeeds_with_a_binary_package_whose_sha256_matches_the_stored_file()
    {
        var request = TestWorker.Request(_repository.Url, _repository.Head);

        var finished = await _worker.BuildAsync(request);

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        var rpm = Assert.Single(finished.Artifacts, a => a.Kind == ArtifactKinds.Rpm);
        Assert.Equal("hello-1.0-1.noarch.rpm", rpm.Name);
        Assert.Single(finished.Artifacts, a => a.Kind == ArtifactKinds.SourceRpm);
        var stored = _worker.Runner.Store.PathFor(rpm.Sha256);
        Assert.Equal(rpm.Sha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(stored))));
        Assert.Equal(rpm.Size, new FileInfo(stored).Length);
    }

    [Fact]
    public async Task Reports_the_slot_then_the_end_with_its_fencing_token()
    {
        var request = TestWorker.Request(_repository.Url, _repository.Head);

        var finished = await _worker.BuildAsync(request);

        var events = _worker.Events.All.Where(e => e is not BuildLogAppended and not BuildRunAccepted).ToList();
        var started = Assert.IsType<BuildRunStarted>(events[0]);
        Assert.Same(finished, events[^1]);
        Assert.Equal(started.FencingToken, finished.FencingToken);
        Assert.Equal(TestWorker.ServerId, finished.ServerId);
        Assert.Empty(Directory.GetFileSystemEntries(_worker.Get<Microsoft.Extensions.Options.IOptions<WorkerOptions>>().Value.WorkspaceRoot));
    }

    [Fact]
    public async Task Builds_an_older_commit_of_the_branch_and_an_abbreviated_one()
    {
        var first = _repository.Head;
        _repository.Commit("hello.spec", GitRepository.Spec("2.0"), "version 2.0");

        var older = await _worker.BuildAsync(TestWorker.Request(_repository.Url, first));
        var newer = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head[..7]));

        Assert.Equal(BuildRunOutcome.Succeeded, older.Outcome);
        Assert.Contains(older.Artifacts, a => a.Name == "hello-1.0-1.noarch.rpm");
        Assert.Equal(BuildRunOutcome.Succeeded, newer.Outcome);
        Assert.Contains(newer.Artifacts, a => a.Name == "hello-2.0-1.noarch.rpm");
    }

    [Fact]
    public async Task Ignores_a_duplicate_dispatch_of_the_same_attempt()
    {
        var request = TestWorker.Request(_repository.Url, _repository.Head);

        Assert.Equal(DispatchDecision.Accepted, await _worker.Runner.DispatchAsync(request, CancellationToken.None));
        Assert.Equal(DispatchDecision.Duplicate, await _worker.Runner.DispatchAsync(request, CancellationToken.None));
        await _worker.Events.FinishedAsync(request.BuildId);
        Assert.Equal(DispatchDecision.Duplicate, await _worker.Runner.DispatchAsync(request, CancellationToken.None));

        Assert.Single(_worker.Events.Of<BuildRunStarted>());
        Assert.Single(_worker.Events.Of<BuildRunFinished>());
    }

    [Fact]
    public async Task Fails_the_build_when_the_spec_does_not_build()
    {
        _repository.Commit("hello.spec", GitRepository.Spec("3.0", "exit 3"), "broken install");

        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head));

        Assert.Equal(BuildRunOutcome.BuildFailed, finished.Outcome);
        Assert.NotNull(finished.ExitCode);
        Assert.NotEmpty(_worker.Events.Log(finished.BuildId, "stderr"));
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        _repository.Dispose();
    }
}
