using BuildFarm.Testing;
using BuildFarm.Worker.Builds;
using Microsoft.Extensions.Time.Testing;

namespace BuildFarm.Worker.Tests;

/// <summary>
/// A dispatch is acknowledged by the attempt's first report: its start, when the slot comes within
/// Worker:AcknowledgeWithin (no BuildRunAccepted: one message and one Scheduler transaction fewer per build), else a
/// BuildRunAccepted at that time, always before the start.
/// </summary>
public sealed class Acknowledging_a_dispatch : IDisposable
{
    private readonly GitRepository _repository = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    [Fact]
    public async Task A_build_that_gets_its_slot_at_once_is_acknowledged_by_its_start_alone()
    {
        await using var worker = new TestWorker(time: _time);
        var request = TestWorker.Request(_repository.Url, _repository.Head);

        var finished = await worker.BuildAsync(request);

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Empty(worker.Events.Of<BuildRunAccepted>());
        Assert.Single(worker.Events.Of<BuildRunStarted>());
    }

    [Fact]
    public async Task A_build_waiting_for_its_slot_is_accepted_when_the_time_is_up_then_started()
    {
        var semaphore = new FakeFarmSemaphore { Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        await using var worker = new TestWorker(semaphore: semaphore, time: _time);
        var request = TestWorker.Request(_repository.Url, _repository.Head);

        Assert.Equal(DispatchDecision.Accepted, await worker.Runner.DispatchAsync(request, CancellationToken.None));
        await Eventually.HoldsAsync(() => semaphore.Waiting == 1, "the build waits for a farm-wide slot");
        _time.Advance(TimeSpan.FromSeconds(1.9));
        await Task.Delay(200);
        Assert.Empty(worker.Events.Of<BuildRunAccepted>());
        _time.Advance(TimeSpan.FromSeconds(0.1));
        var accepted = await worker.Events.WaitForAsync<BuildRunAccepted>(a => a.BuildId == request.BuildId);
        semaphore.Hold.SetResult();
        var finished = await worker.Events.FinishedAsync(request.BuildId);

        Assert.Equal((TestWorker.ServerId, 1), (accepted.ServerId, accepted.Attempt));
        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        var reports = worker.Events.All.Where(e => e is BuildRunAccepted or BuildRunStarted or BuildRunFinished).ToList();
        Assert.Collection(reports, e => Assert.IsType<BuildRunAccepted>(e), e => Assert.IsType<BuildRunStarted>(e), e => Assert.IsType<BuildRunFinished>(e));
    }

    public void Dispose() => _repository.Dispose();
}
