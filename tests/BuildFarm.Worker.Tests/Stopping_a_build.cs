using BuildFarm.Testing;
using Microsoft.Extensions.Time.Testing;

namespace BuildFarm.Worker.Tests;

public sealed class Stopping_a_build : IAsyncLifetime
{
    private const string Toolchain = "mock:" + TestWorker.MockConfig;
    private readonly GitRepository _repository = new();
    private readonly TempDirectory _pids = new("bfpids");

    public Task InitializeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Cancelling_kills_the_whole_process_tree()
    {
        await using var worker = Worker();
        var request = await StartLongBuildAsync(worker);
        var mock = ProcessState.Written(_pids.Path, "mock").Single();
        var child = ProcessState.Written(_pids.Path, "child").Single();
        Assert.True(ProcessState.IsAlive(child));

        Assert.True(worker.Runner.Stop(request.BuildId, request.Attempt, BuildRunOutcome.Cancelled, "cancelled by alice"));
        var finished = await worker.Events.FinishedAsync(request.BuildId);

        Assert.Equal(BuildRunOutcome.Cancelled, finished.Outcome);
        Assert.Equal("cancelled by alice", finished.Reason);
        Assert.False(ProcessState.IsAlive(mock), "mock still runs");
        Assert.False(ProcessState.IsAlive(child), "mock's child still runs");
        Assert.Empty(Directory.GetFileSystemEntries(worker.MockRoots));
    }

    [Fact]
    public async Task A_tree_that_ignores_sigterm_is_killed_after_the_grace_period()
    {
        await using var worker = Worker(o =>
        {
            o.BuildEnvironment["MOCK_IGNORE_TERM"] = "1";
            o.StopGracePeriod = TimeSpan.FromSeconds(1);
        });
        var request = await StartLongBuildAsync(worker);
        var mock = ProcessState.Written(_pids.Path, "mock").Single();
        var child = ProcessState.Written(_pids.Path, "child").Single();

        worker.Runner.Stop(request.BuildId, request.Attempt, BuildRunOutcome.Cancelled, null);
        var finished = await worker.Events.FinishedAsync(request.BuildId);

        Assert.Equal(BuildRunOutcome.Cancelled, finished.Outcome);
        Assert.False(ProcessState.IsAlive(mock), "mock still runs");
        Assert.False(ProcessState.IsAlive(child), "mock's child still runs");
    }

    [Fact]
    public async Task A_stop_as_timed_out_ends_it_timed_out()
    {
        await using var worker = Worker();
        var request = await StartLongBuildAsync(worker);

        worker.Runner.Stop(request.BuildId, request.Attempt, BuildRunOutcome.TimedOut, "ran past 120 minutes");
        var finished = await worker.Events.FinishedAsync(request.BuildId);

        Assert.Equal(BuildRunOutcome.TimedOut, finished.Outcome);
        Assert.False(ProcessState.IsAlive(ProcessState.Written(_pids.Path, "child").Single()));
    }

    [Fact]
    public async Task Running_past_the_maximum_duration_ends_it_timed_out()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var worker = Worker(time: time);
        var request = await StartLongBuildAsync(worker);

        time.Advance(TimeSpan.FromMinutes(request.MaxBuildMinutes) + TimeSpan.FromSeconds(1));
        var finished = await worker.Events.FinishedAsync(request.BuildId);

        Assert.Equal(BuildRunOutcome.TimedOut, finished.Outcome);
        Assert.Contains($"{request.MaxBuildMinutes} minutes", finished.Reason);
    }

    [Fact]
    public async Task Losing_the_slot_lease_stops_it_as_an_infrastructure_failure()
    {
        var semaphore = new FakeFarmSemaphore();
        await using var worker = Worker(semaphore: semaphore);
        var request = await StartLongBuildAsync(worker);

        semaphore.LoseAll();
        var finished = await worker.Events.FinishedAsync(request.BuildId);

        Assert.Equal(BuildRunOutcome.InfrastructureFailed, finished.Outcome);
        Assert.Equal("build slot lease lost", finished.Reason);
        Assert.False(ProcessState.IsAlive(ProcessState.Written(_pids.Path, "child").Single()));
        Assert.Equal(1, semaphore.Released);
    }

    [Fact]
    public async Task Shutting_down_hands_a_running_build_back()
    {
        var worker = Worker();
        var request = await StartLongBuildAsync(worker);

        await worker.DisposeAsync(); // shutdown grace of 1 s, then hand back
        var finished = await worker.Events.FinishedAsync(request.BuildId);

        Assert.Equal(BuildRunOutcome.InfrastructureFailed, finished.Outcome);
        Assert.Equal("worker shutting down", finished.Reason);
        Assert.False(ProcessState.IsAlive(ProcessState.Written(_pids.Path, "child").Single()));
        Assert.Equal(Builds.DispatchDecision.HandedBack,
            await worker.Runner.DispatchAsync(TestWorker.Request(_repository.Url, _repository.Head), CancellationToken.None));
    }

    private TestWorker Worker(Action<WorkerOptions>? configure = null, FakeFarmSemaphore? semaphore = null, TimeProvider? time = null) =>
        new(o =>
        {
            o.BuildEnvironment["MOCK_SLEEP"] = "120";
            File.SetUnixFileMode(_pids.Path, (UnixFileMode)0b1_111_111_111); // the build user writes its pids there
            o.BuildEnvironment["MOCK_PID_DIR"] = _pids.Path;
            configure?.Invoke(o);
        }, semaphore, time);

    private async Task<DispatchBuild> StartLongBuildAsync(TestWorker worker)
    {
        var request = TestWorker.Request(_repository.Url, _repository.Head, Toolchain, architecture: "x86_64");
        await worker.Runner.DispatchAsync(request, CancellationToken.None);
        await ProcessState.WaitForAsync(_pids.Path, "child");
        return request;
    }

    public Task DisposeAsync()
    {
        _repository.Dispose();
        _pids.Dispose();
        return Task.CompletedTask;
    }
}
