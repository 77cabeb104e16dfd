using BuildFarm.Contracts;

namespace BuildFarm.Scheduler.Tests;

public sealed class Retrying_and_fencing
{
    private static BuildRunFinished Infra(Guid id, int attempt, string server, DateTimeOffset at) => new()
    {
        BuildId = id, Attempt = attempt, ServerId = server, Outcome = BuildRunOutcome.InfrastructureFailed,
        ExitCode = 60, Reason = "build root locked", FinishedAt = at,
    };

    [Fact]
    public async Task An_infrastructure_failure_goes_back_to_the_queue_with_backoff()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.BuildingAsync("b1");

        await h.PublishAsync(Infra(id, 1, "b1", h.Clock.GetUtcNow()));

        var build = h.Instance(id)!;
        Assert.Equal("Queued", build.CurrentState);
        Assert.Equal(1, build.Attempt);
        Assert.Null(build.ServerId);
        Assert.Equal(h.Clock.GetUtcNow() + TimeSpan.FromSeconds(5), build.RetryAt);
        Assert.Contains(h.Harness.Published.Select<BuildQueued>(), m => m.Context.Message.BuildId == id && m.Context.Message.Attempt == 2);
    }

    [Fact]
    public async Task The_backoff_doubles_and_the_build_fails_after_the_retry_limit()
    {
        await using var h = await SagaHarness.StartAsync();
        h.Settings.Apply(new FarmSettings { MaxRetries = 2 }, 1);
        var id = await h.BuildingAsync("b1");
        var delays = new List<TimeSpan>();

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            if (attempt > 1)
            {
                await h.DispatchAsync(id, "b1");
            }
            await h.PublishAsync(Infra(id, attempt, "b1", h.Clock.GetUtcNow()));
            if (h.Instance(id)!.RetryAt is { } retryAt)
            {
                delays.Add(retryAt - h.Clock.GetUtcNow());
            }
        }

        var build = h.Instance(id)!;
        Assert.Equal([TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)], delays);
        Assert.Equal("Failed", build.CurrentState);
        Assert.Equal("build root locked (gave up after 3 attempts)", build.Reason);
    }

    [Fact]
    public async Task Events_from_an_earlier_attempt_are_ignored()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.BuildingAsync("b1");
        await h.PublishAsync(Infra(id, 1, "b1", h.Clock.GetUtcNow()));
        await h.DispatchAsync(id, "b2");

        // The first server comes back and reports its attempt as a success: it must not count.
        await h.PublishAsync(new BuildRunFinished
        {
            BuildId = id, Attempt = 1, ServerId = "b1", Outcome = BuildRunOutcome.Succeeded, FinishedAt = h.Clock.GetUtcNow(),
        });
        await h.PublishAsync(new BuildRunStarted { BuildId = id, Attempt = 1, ServerId = "b1", FencingToken = 3, StartedAt = h.Clock.GetUtcNow() });

        var build = h.Instance(id)!;
        Assert.Equal("Dispatched", build.CurrentState);
        Assert.Equal(2, build.Attempt);
        Assert.Equal("b2", build.ServerId);
        Assert.DoesNotContain(h.Harness.Published.Select<BuildCompleted>(), m => m.Context.Message.BuildId == id);
    }

    [Fact]
    public async Task An_event_for_the_right_attempt_from_another_server_is_ignored()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.BuildingAsync("b1");

        await h.PublishAsync(new BuildRunFinished
        {
            BuildId = id, Attempt = 1, ServerId = "b9", Outcome = BuildRunOutcome.Succeeded, FinishedAt = h.Clock.GetUtcNow(),
        });

        Assert.Equal("Building", h.Instance(id)!.CurrentState);
    }

    [Fact]
    public async Task A_dispatch_that_is_not_acknowledged_in_time_is_dispatched_again()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.DispatchedAsync("b1");
        h.Clock.Advance(TimeSpan.FromSeconds(31));

        await h.PublishAsync(new BuildDeadlineReached { BuildId = id, Attempt = 1, State = "Dispatched", DeadlineAt = h.Clock.GetUtcNow() });

        var build = h.Instance(id)!;
        Assert.Equal("Queued", build.CurrentState);
        Assert.Contains("did not acknowledge the dispatch", build.Reason, StringComparison.Ordinal);
        Assert.Contains(h.Harness.Published.Select<BuildQueued>(), m => m.Context.Message.BuildId == id && m.Context.Message.Attempt == 2);
    }

    [Fact]
    public async Task A_deadline_that_has_not_passed_yet_changes_nothing()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.DispatchedAsync("b1");

        await h.PublishAsync(new BuildDeadlineReached { BuildId = id, Attempt = 1, State = "Dispatched", DeadlineAt = h.Clock.GetUtcNow() });

        Assert.Equal("Dispatched", h.Instance(id)!.CurrentState);
    }

    [Fact]
    public async Task A_build_over_its_maximum_duration_is_stopped_and_timed_out()
    {
        await using var h = await SagaHarness.StartAsync();
        var id = await h.BuildingAsync("b1");
        h.Clock.Advance(TimeSpan.FromMinutes(123));

        await h.PublishAsync(new BuildDeadlineReached { BuildId = id, Attempt = 1, State = "Building", DeadlineAt = h.Clock.GetUtcNow() });

        Assert.Equal("TimedOut", h.Instance(id)!.CurrentState);
        Assert.Contains(h.Harness.Sent.Select<StopBuildRun>(), m => m.Context.Message.BuildId == id && m.Context.Message.As == BuildRunOutcome.TimedOut);
        Assert.Contains(h.Harness.Published.Select<BuildFailed>(), m => m.Context.Message.BuildId == id && m.Context.Message.State == "TimedOut");
    }
}
