using System.Net;
using System.Text.Json;
using BuildFarm.Contracts;

namespace BuildFarm.EndToEnd.Tests;

/// <summary>
/// The bus as its users see it: every service and build server is its own RabbitMQ user, other services get the
/// publisher user, and what a user may publish is checked by RabbitMQ (permissions, user_id) and by the farm
/// (which sender may send which message, for which server).
/// </summary>
public sealed class Guarding_the_bus_door(SlowMockFarm farm) : IClassFixture<SlowMockFarm>
{
    private const string Commit = "0123456789abcdef0123456789abcdef01234567";

    [Theory]
    [InlineData(nameof(DispatchBuild))]
    [InlineData(nameof(CancelBuild))]
    [InlineData(nameof(BuildRunFinished))]
    [InlineData(nameof(SettingsChanged))]
    public async Task The_publisher_user_may_publish_build_requests_and_nothing_else(string messageType)
    {
        await using (var guest = await RawBus.ConnectAsync(farm.VirtualHost))
        {
            await guest.DeclareAsync(messageType);
        }
        await using var publisher = await RawBus.ConnectAsync(await TestServers.BusUserAsync(farm.VirtualHost, "publisher"));

        var refused = await Assert.ThrowsAnyAsync<Exception>(() => publisher.PublishAsync(messageType, new { buildId = Guid.NewGuid() }));

        Assert.Contains("ACCESS_REFUSED", refused.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_request_through_the_bus_door_is_recorded_under_its_sender_at_the_time_it_arrived()
    {
        await using var publisher = await RawBus.ConnectAsync(await TestServers.BusUserAsync(farm.VirtualHost, "publisher"));
        var id = Guid.NewGuid();

        await publisher.PublishAsync(nameof(BuildRequested), new
        {
            buildId = id, sourceRepository = "https://example.invalid/door.git", branch = "main", commitHash = Commit,
            targetArchitecture = "s390x", toolchain = "rpmbuild", priority = "low",
            submittedBy = "alice", submittedAt = DateTimeOffset.UtcNow.AddDays(-3),
        });

        var build = await WaitForBuildAsync(id);
        Assert.Equal("publisher", build.GetProperty("submittedBy").GetString());
        Assert.InRange(build.GetProperty("submittedAt").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(-2), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task The_publisher_hears_whether_its_request_was_queued_or_rejected_on_a_queue_of_its_own()
    {
        var publisherUri = await TestServers.BusUserAsync(farm.VirtualHost, "publisher");
        await using var publisher = await RawBus.ConnectAsync(publisherUri);
        var replies = "publisher.replies-" + Guid.NewGuid().ToString("N")[..8];
        await publisher.DeclareQueueAsync(replies);
        var address = new Uri($"rabbitmq://{publisherUri.Host}{publisherUri.AbsolutePath}/{replies}");
        var queued = Guid.NewGuid();
        var invalid = Guid.NewGuid();
        object Request(Guid id, string repository) => new
        {
            buildId = id, sourceRepository = repository, branch = "main", commitHash = Commit,
            targetArchitecture = "s390x", toolchain = "rpmbuild", priority = "low",
        };

        await publisher.PublishAsync(nameof(BuildRequested), Request(queued, "https://example.invalid/queued.git"), responseAddress: address);
        await publisher.PublishAsync(nameof(BuildRequested), Request(invalid, "ext::sh -c reboot"), responseAddress: address);

        var answers = new List<(string[] Types, JsonElement Message)>();
        for (var i = 0; i < 2 && await publisher.ReceiveAsync(replies, TimeSpan.FromSeconds(30)) is { } answer; i++)
        {
            answers.Add(answer);
        }
        Assert.Contains(answers, a => a.Types.Contains("urn:message:BuildFarm.Contracts:BuildQueued") && a.Message.GetProperty("buildId").GetGuid() == queued);
        Assert.Contains(answers, a => a.Types.Contains("urn:message:BuildFarm.Contracts:BuildRejected") && a.Message.GetProperty("buildId").GetGuid() == invalid
            && a.Message.GetProperty("errors")[0].GetProperty("field").GetString() == "sourceRepository");
    }

    [Fact]
    public async Task Reports_and_cancels_forged_by_other_users_change_nothing()
    {
        var (url, commit) = farm.Repo(Path.Combine(Repository.Root, "samples", "hello-buildfarm"));
        var id = (await farm.SubmitAsync(new
        {
            sourceRepository = url, branch = "main", commitHash = commit, targetArchitecture = "x86_64", toolchain = "mock:fedora-40-x86_64",
        })).GetProperty("id").GetGuid();
        await farm.WaitForStateAsync(id, "Building");
        await using var intruder = await RawBus.ConnectAsync(await TestServers.BusUserAsync(farm.VirtualHost, "worker", "intruder"));
        await using var publisher = await RawBus.ConnectAsync(await TestServers.BusUserAsync(farm.VirtualHost, "publisher"));
        object Finished(string serverId) => new
        {
            buildId = id, attempt = 1, serverId, outcome = (int)BuildRunOutcome.Succeeded, exitCode = 0, finishedAt = DateTimeOffset.UtcNow,
            artifacts = new[] { new { name = "forged-1.0-1.x86_64.rpm", size = 4, sha256 = new string('0', 64), kind = "binary" } },
        };

        // Another build server's user speaking for the server that runs the build: the Scheduler refuses the sender.
        await intruder.PublishAsync(nameof(BuildRunFinished), Finished(farm.ServerId));
        // In its own name, for an attempt its server does not hold: the saga ignores it.
        await intruder.PublishAsync(nameof(BuildRunFinished), Finished("intruder"));
        // Claiming to be the right server's user: RabbitMQ refuses a user_id that is not the connection's.
        var impersonation = await Assert.ThrowsAnyAsync<Exception>(() =>
            intruder.PublishAsync(nameof(BuildRunFinished), Finished(farm.ServerId), userId: "worker-" + farm.ServerId));
        Assert.Contains("PRECONDITION_FAILED", impersonation.ToString(), StringComparison.Ordinal);
        // A cancel in a build request's envelope, through the one exchange the publisher may write: refused by the Scheduler.
        await publisher.PublishAsync(nameof(CancelBuild), new { buildId = id, requestedBy = "alice" }, exchangeType: nameof(BuildRequested));

        var build = await farm.WaitForStateAsync(id, "Completed", "Failed", "Cancelled", "TimedOut");
        Assert.Equal("Completed", build.GetProperty("state").GetString());
        var artifacts = build.GetProperty("artifacts").EnumerateArray().Select(a => a.GetProperty("name").GetString()).ToList();
        Assert.DoesNotContain("forged-1.0-1.x86_64.rpm", artifacts);
        Assert.Contains(artifacts, a => a!.EndsWith(".src.rpm", StringComparison.Ordinal));
        Assert.Equal(["Queued", "Dispatched", "Building", "Completed"],
            build.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("state").GetString()).ToList());
        // The refused messages wait in the saga endpoint's _skipped queue for operators to see.
        await WaitForMessagesAsync("build-state_skipped", 2);
    }

    [Fact]
    public async Task A_message_from_another_user_that_fails_is_kept_in_the_error_queue_not_delivered_again_and_again()
    {
        await using var worker = await RawBus.ConnectAsync(await TestServers.BusUserAsync(farm.VirtualHost, "worker", "broken"));

        // A log batch without its text: the consumer fails on it, and the message is moved to store-build-log_error as
        // Submission's user (a copy that kept the worker's user_id would be refused by RabbitMQ, and the message redelivered).
        await worker.PublishAsync(nameof(BuildLogAppended), new
        {
            buildId = Guid.NewGuid(), attempt = 1, serverId = "broken", stream = "stdout", sequence = 1, offset = 0, text = (string?)null, at = DateTimeOffset.UtcNow,
        });

        await WaitForMessagesAsync("store-build-log_error", 1);
    }

    /// <summary>Waits until <paramref name="queue"/> holds at least <paramref name="count"/> messages (the broker's figures lag a few seconds).</summary>
    private async Task WaitForMessagesAsync(string queue, long count)
    {
        IReadOnlyList<(string Name, long Messages)> queues = [];
        await Eventually.HoldsAsync(async () => (queues = await TestServers.QueuesAsync(farm.VirtualHost)).Any(q => q.Name == queue && q.Messages >= count),
            $"{queue} holds {count} messages", details: () => $"queues: {string.Join(", ", queues)}\n{farm.Logs()}");
    }

    private async Task<JsonElement> WaitForBuildAsync(Guid id)
    {
        HttpResponseMessage? found = null;
        await Eventually.HoldsAsync(async () => (found = await farm.Http.GetAsync($"/api/v1/builds/{id}")).StatusCode == HttpStatusCode.OK,
            $"build {id} is recorded", TimeSpan.FromSeconds(60), farm.Logs);
        return JsonDocument.Parse(await found!.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
