using BuildFarm.Contracts;

namespace BuildFarm.Scheduler.Tests;

public sealed class Cancelling_a_build
{
    [Fact]
    public async Task A_queued_build_leaves_the_queue_at_once()
    {
        await using var h = await SagaHarness.StartAsync();
        var request = SagaHarness.Request();
        await h.PublishAsync(request);

        await h.PublishAsync(new CancelBuild { BuildId = request.BuildId, RequestedBy = "alice" });

        var build = h.Instance(request.BuildId)!;
        Assert.Equal("Cancelled", build.CurrentState);
        Assert.Equal("cancelled by alice", build.Reason);
        Assert.Contains(h.Harness.Published.Select<BuildCancelled>(), m => m.Context.Message.BuildId == request.BuildId);
        Assert.Empty(h.Harness.Sent.Select<StopBuildRun>());
    }

    [Fact]
    public async Task A_cancel_that_overtakes_its_request_still_cancels_the_build()
    {
        await using var h = await SagaHarness.StartAsync();
        var request = SagaHarness.Request();

        await h.PublishAsync(new CancelBuild { BuildId = request.BuildId, RequestedBy = "alice" });
        await h.PublishAsync(request);

        var build = h.Instance(request.BuildId)!;
        Assert.Equal("Cancelled", build.CurrentState);
        Assert.Equal("cancelled by alice", build.Reason);
        Assert.Equal(request.SourceRepository, build.SourceRepository);
        Assert.Equal(request.SubmittedBy, build.SubmittedBy);
        Assert.DoesNotContain(h.Harness.Published.Select<BuildQueued>(), m => m.Context.Message.BuildId == request.BuildId);
        Assert.Single(h.Harness.Published.Select<BuildCancelled>(), m => m.Context.Message.BuildId == request.BuildId);
    }

    [Fact]
    public async Task An_invalid_request_behind_its_cancel_is_still_rejected()
    {
        await using var h = await SagaHarness.StartAsync();
        var request = SagaHarness.Request() with { TargetArchitecture = "pdp11" };

        await h.PublishAsync(new CancelBuild { BuildId = request.BuildId, RequestedBy = "alice" });
        await h.PublishAsync(request);

        // Finalized: the PostgreSQL repository deletes the row, so the build reads as Rejected (the in-memory one keeps it as Final).
        Assert.Equal("Final", h.Instance(request.BuildId)!.CurrentState);
        Assert.Contains(h.Harness.Published.Select<BuildRejected>(), m => m.Context.Message.BuildId == request.BuildId);
    }

    [Fact]
    public async Task A_running_build_is_stopped_and_cancelled_when_the_worker_confirms()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.BuildingAsync("b1");

        await h.PublishAsync(new CancelBuild { BuildId = id, RequestedBy = "bob", Reason = "wrong branch" });

        Assert.Equal("Cancelling", h.Instance(id)!.CurrentState);
        Assert.Contains(h.Harness.Sent.Select<StopBuildRun>(), m => m.Context.Message.BuildId == id && m.Context.Message.As == BuildRunOutcome.Cancelled);
        Assert.DoesNotContain(h.Harness.Published.Select<BuildCancelled>(), m => m.Context.Message.BuildId == id);

        await h.PublishAsync(new BuildRunFinished
        {
            BuildId = id, Attempt = 1, ServerId = "b1", Outcome = BuildRunOutcome.Cancelled, ExitCode = 143, FinishedAt = h.Clock.GetUtcNow(),
        });

        var build = h.Instance(id)!;
        Assert.Equal("Cancelled", build.CurrentState);
        Assert.Equal("cancelled by bob: wrong branch", build.Reason);
        Assert.Contains(h.Harness.Published.Select<BuildCancelled>(), m => m.Context.Message.BuildId == id && m.Context.Message.CancelledBy == "bob");
    }

    [Fact]
    public async Task A_running_build_whose_worker_does_not_confirm_is_cancelled_after_the_grace_period()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.BuildingAsync("b1");
        await h.PublishAsync(new CancelBuild { BuildId = id, RequestedBy = "bob" });
        h.Clock.Advance(TimeSpan.FromSeconds(31));

        await h.PublishAsync(new BuildDeadlineReached { BuildId = id, Attempt = 1, State = "Cancelling", DeadlineAt = h.Clock.GetUtcNow() });

        var build = h.Instance(id)!;
        Assert.Equal("Cancelled", build.CurrentState);
        Assert.Contains("did not confirm", build.History[^1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_finished_build_is_not_changed_by_a_cancel()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.BuildingAsync("b1");
        await h.PublishAsync(new BuildRunFinished
        {
            BuildId = id, Attempt = 1, ServerId = "b1", Outcome = BuildRunOutcome.Succeeded, FinishedAt = h.Clock.GetUtcNow(),
        });

        await h.PublishAsync(new CancelBuild { BuildId = id, RequestedBy = "bob" });

        Assert.Equal("Completed", h.Instance(id)!.CurrentState);
        Assert.DoesNotContain(h.Harness.Published.Select<BuildCancelled>(), m => m.Context.Message.BuildId == id);
    }
}
