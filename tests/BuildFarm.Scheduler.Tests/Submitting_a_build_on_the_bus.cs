using BuildFarm.Contracts;

namespace BuildFarm.Scheduler.Tests;

public sealed class Submitting_a_build_on_the_bus
{
    [Fact]
    public async Task A_valid_request_is_queued_and_announced()
    {
        await using var h = await SagaHarness.StartAsync();
        var request = SagaHarness.Request(priority: "URGENT");

        await h.PublishAsync(request);

        var build = h.Instance(request.BuildId);
        Assert.NotNull(build);
        Assert.Equal("Queued", build.CurrentState);
        Assert.Equal("urgent", build.Priority);
        Assert.Equal(0, build.Attempt);
        Assert.Equal("Queued", Assert.Single(build.History).State);
        Assert.Contains(h.Harness.Published.Select<BuildQueued>(), m => m.Context.Message.BuildId == request.BuildId && m.Context.Message.Attempt == 1);
    }

    [Fact]
    public async Task An_invalid_request_is_rejected_with_the_same_reasons_and_not_stored()
    {
        await using var h = await SagaHarness.StartAsync();
        var request = SagaHarness.Request() with
        {
            SourceRepository = "ext::sh -c touch% /tmp/pwned",
            Branch = "--upload-pack=evil",
            Priority = "whenever",
        };

        await h.PublishAsync(request);

        Assert.Contains(h.Harness.Published.Select<BuildRejected>(), m => m.Context.Message.BuildId == request.BuildId);
        var rejected = h.Harness.Published.Select<BuildRejected>().Single(m => m.Context.Message.BuildId == request.BuildId).Context.Message;
        var fields = rejected.Errors.Select(e => e.Field).ToHashSet();
        Assert.Contains("sourceRepository", fields);
        Assert.Contains("branch", fields);
        Assert.Contains("priority", fields);
        Assert.DoesNotContain(h.Harness.Published.Select<BuildQueued>(), m => m.Context.Message.BuildId == request.BuildId);
        // The in-memory repository keeps finalized instances in its list; the PostgreSQL one deletes them
        // (the end-to-end tests check that nothing is stored). Here: it never became a queued build.
        Assert.Equal("Final", h.Instance(request.BuildId)?.CurrentState ?? "Final");
    }

    [Fact]
    public async Task The_same_request_twice_creates_one_build()
    {
        await using var h = await SagaHarness.StartAsync();
        var request = SagaHarness.Request();

        await h.PublishAsync(request);
        await h.PublishAsync(request);

        Assert.Single(h.Harness.Published.Select<BuildQueued>(), m => m.Context.Message.BuildId == request.BuildId);
        Assert.Single(h.Instance(request.BuildId)!.History);
    }

    [Fact]
    public async Task A_request_beyond_the_queue_limit_is_rejected_as_queue_full_and_not_stored()
    {
        await using var h = await SagaHarness.StartAsync();
        h.Settings.Apply(new FarmSettings { MaxQueueSize = 10 }, 1);
        h.Queue.Queued = 10;
        var request = SagaHarness.Request();

        await h.PublishAsync(request);

        var rejected = Assert.Single(h.Harness.Published.Select<BuildRejected>(), m => m.Context.Message.BuildId == request.BuildId).Context.Message;
        Assert.Equal("queue", Assert.Single(rejected.Errors).Field);
        Assert.StartsWith("queue full", rejected.Errors[0].Message, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Harness.Published.Select<BuildQueued>(), m => m.Context.Message.BuildId == request.BuildId);
        Assert.Equal("Final", h.Instance(request.BuildId)?.CurrentState ?? "Final");
    }
}
