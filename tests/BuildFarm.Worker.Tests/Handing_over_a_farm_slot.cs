using BuildFarm.Testing;
using BuildFarm.Worker.Builds;

namespace BuildFarm.Worker.Tests;

/// <summary>
/// The farm-wide slot is held only while the toolchain's processes run: the source is checked out while the build
/// waits for the slot, and the slot goes back before the artifacts are stored and the build root is scrubbed, so a
/// slot handed over starts the next build's toolchain at once.
/// </summary>
public sealed class Handing_over_a_farm_slot : IDisposable
{
    private const string Toolchain = "mock:" + TestWorker.MockConfig;
    private readonly GitRepository _repository = new();

    [Fact]
    public async Task A_build_waiting_for_its_slot_has_its_source_checked_out_already()
    {
        var semaphore = new FakeFarmSemaphore { Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var worker = new TestWorker(semaphore: semaphore);
        var request = TestWorker.Request(_repository.Url, _repository.Head);

        Assert.Equal(DispatchDecision.Accepted, await worker.Runner.DispatchAsync(request, CancellationToken.None));
        await Eventually.HoldsAsync(() => semaphore.Waiting == 1, "the build waits for a farm-wide slot");
        var checkout = Path.Combine(worker.Directories.Path, "workspaces", $"{request.BuildId:D}-1", "src");

        Assert.True(File.Exists(Path.Combine(checkout, "hello.spec")), "the spec is checked out before the slot comes");
        Assert.Empty(worker.Events.Of<BuildRunStarted>());
        semaphore.Hold.SetResult();
        var finished = await worker.Events.FinishedAsync(request.BuildId);
        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Equal(_repository.Head, finished.Commit);
        Assert.Equal(Assert.Single(worker.Events.Of<BuildRunStarted>()).FencingToken, finished.FencingToken);
    }

    [Fact]
    public async Task A_source_that_cannot_be_fetched_takes_no_slot()
    {
        var semaphore = new FakeFarmSemaphore();
        await using var worker = new TestWorker(semaphore: semaphore);

        var finished = await worker.BuildAsync(TestWorker.Request(_repository.Url, new string('7', 40)));

        Assert.Equal(BuildRunOutcome.BuildFailed, finished.Outcome);
        Assert.Contains("was not found on branch main", finished.Reason);
        Assert.Equal(0, semaphore.Requested);
        Assert.Null(finished.FencingToken);
        Assert.Empty(worker.Events.Of<BuildRunStarted>());
    }

    [Fact]
    public async Task The_slot_goes_back_when_the_build_ended_before_its_artifacts_are_stored_and_its_root_scrubbed()
    {
        var semaphore = new FakeFarmSemaphore();
        await using var worker = new TestWorker(semaphore: semaphore);
        var request = TestWorker.Request(_repository.Url, _repository.Head, Toolchain, architecture: "x86_64");
        var root = Path.Combine(worker.MockRoots, $"{TestWorker.MockConfig}-build-{request.BuildId:D}-1");
        var store = Path.Combine(worker.Directories.Path, "artifacts");
        var seen = new List<(bool Root, int Stored, int Finished)>();
        semaphore.OnRelease = _ => seen.Add((Directory.Exists(root),
            Directory.Exists(store) ? Directory.EnumerateFiles(store, "*", SearchOption.AllDirectories).Count() : 0, worker.Events.Of<BuildRunFinished>().Count));

        var finished = await worker.BuildAsync(request);

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Contains(finished.Artifacts, a => a.Kind == "rpm");
        Assert.Equal([(true, 0, 0)], seen);
        Assert.False(Directory.Exists(root), "the root is scrubbed after the slot went back");
        Assert.Equal(1, semaphore.Released);
    }

    public void Dispose() => _repository.Dispose();
}
