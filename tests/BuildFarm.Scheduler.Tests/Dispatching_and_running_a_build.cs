using BuildFarm.Contracts;

namespace BuildFarm.Scheduler.Tests;

public sealed class Dispatching_and_running_a_build
{
    [Fact]
    public async Task A_dispatch_moves_the_build_to_that_server_with_the_next_attempt()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.DispatchedAsync("b7");

        var build = h.Instance(id)!;
        Assert.Equal("Dispatched", build.CurrentState);
        Assert.Equal(1, build.Attempt);
        Assert.Equal("b7", build.ServerId);
        Assert.Equal(h.Clock.GetUtcNow() + new SchedulerOptions().DispatchAckTimeout, build.DeadlineAt);
        Assert.Equal(("Dispatched", "dispatched to b7"), (build.History[^1].State, build.History[^1].Reason));
        var sent = h.Harness.Sent.Select<DispatchBuild>().Single(m => m.Context.Message.BuildId == id);
        Assert.EndsWith("build-server-b7", sent.Context.DestinationAddress!.AbsolutePath, StringComparison.Ordinal);
        Assert.Equal(1, sent.Context.Message.Attempt);
        Assert.Equal("mock:fedora-40-x86_64", sent.Context.Message.Toolchain);
        Assert.Equal("0123456789abcdef0123456789abcdef01234567", sent.Context.Message.CommitHash);
    }

    [Fact]
    public async Task Only_a_queued_build_can_be_dispatched()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.DispatchedAsync("b1");

        await Assert.ThrowsAsync<InvalidOperationException>(() => h.DispatchAsync(id, "b2"));

        Assert.Equal(("Dispatched", 1, "b1"), (h.Instance(id)!.CurrentState, h.Instance(id)!.Attempt, h.Instance(id)!.ServerId));
        Assert.Single(h.Harness.Sent.Select<DispatchBuild>(), m => m.Context.Message.BuildId == id);
    }

    [Fact]
    public async Task An_accepted_build_has_its_checkout_and_its_slot_wait_to_start_in()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.DispatchedAsync("b1");
        var acceptedAt = h.Clock.GetUtcNow();

        await h.PublishAsync(new BuildRunAccepted { BuildId = id, Attempt = 1, ServerId = "b1", AcceptedAt = acceptedAt });

        // The Worker checks the source out (bounded like a build) before it waits for a farm-wide slot.
        var farm = new FarmSettings();
        await Testing.Eventually.HoldsAsync(() => h.Instance(id)!.AcceptedAt is not null, "the acceptance was recorded");
        Assert.Equal(acceptedAt + TimeSpan.FromMinutes(farm.MaxBuildMinutes) + TimeSpan.FromSeconds(farm.SlotWaitTimeoutSeconds)
            + new SchedulerOptions().StartMargin, h.Instance(id)!.DeadlineAt);
        Assert.Null(h.Harness.Sent.Select<DispatchBuild>().Single(m => m.Context.Message.BuildId == id).Context.Message.SlotWaitTimeoutSeconds);
    }

    [Fact]
    public async Task A_successful_run_completes_the_build_with_its_artifacts_and_duration()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.BuildingAsync("b1");
        Assert.Contains(h.Harness.Published.Select<BuildStarted>(), m => m.Context.Message.BuildId == id);
        h.Clock.Advance(TimeSpan.FromSeconds(42));

        var rpm = new Artifact("hello-1.0-1.noarch.rpm", 1234, new string('a', 64), "rpm");
        await h.PublishAsync(new BuildRunFinished
        {
            BuildId = id, Attempt = 1, ServerId = "b1", Outcome = BuildRunOutcome.Succeeded, ExitCode = 0,
            FinishedAt = h.Clock.GetUtcNow(), Artifacts = [rpm],
        });

        var build = h.Instance(id)!;
        Assert.Equal("Completed", build.CurrentState);
        Assert.Equal(TimeSpan.FromSeconds(42), build.Duration);
        Assert.Equal(["Queued", "Dispatched", "Building", "Completed"], build.History.Select(x => x.State));
        var completed = h.Harness.Published.Select<BuildCompleted>().Single(m => m.Context.Message.BuildId == id).Context.Message;
        Assert.Equal(rpm, Assert.Single(completed.Artifacts));
        Assert.Equal(TimeSpan.FromSeconds(42), completed.Duration);
    }

    [Fact]
    public async Task A_build_failure_fails_the_build_without_a_retry()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.BuildingAsync("b1");

        await h.PublishAsync(new BuildRunFinished
        {
            BuildId = id, Attempt = 1, ServerId = "b1", Outcome = BuildRunOutcome.BuildFailed, ExitCode = 10,
            Reason = "rpmbuild failed (see build.log)", FinishedAt = h.Clock.GetUtcNow(),
        });

        var build = h.Instance(id)!;
        Assert.Equal("Failed", build.CurrentState);
        Assert.Equal("rpmbuild failed (see build.log)", build.Reason);
        Assert.Equal(10, build.ExitCode);
        var failed = h.Harness.Published.Select<BuildFailed>().Single(m => m.Context.Message.BuildId == id).Context.Message;
        Assert.Equal("Failed", failed.State);
        Assert.Single(h.Harness.Published.Select<BuildQueued>(), m => m.Context.Message.BuildId == id);
    }

    [Fact]
    public async Task A_build_that_runs_over_time_on_the_worker_ends_timed_out()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.BuildingAsync("b1");

        await h.PublishAsync(new BuildRunFinished
        {
            BuildId = id, Attempt = 1, ServerId = "b1", Outcome = BuildRunOutcome.TimedOut, Reason = "ran longer than 120 min",
            FinishedAt = h.Clock.GetUtcNow(),
        });

        Assert.Equal("TimedOut", h.Instance(id)!.CurrentState);
        Assert.Contains(h.Harness.Published.Select<BuildFailed>(), m => m.Context.Message.BuildId == id && m.Context.Message.State == "TimedOut");
    }
}
