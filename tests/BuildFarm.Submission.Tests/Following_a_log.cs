using System.Text.Json;
using BuildFarm.Submission.Logs;

namespace BuildFarm.Submission.Tests;

/// <summary>GET …/logs/follow as Server-Sent Events: what a client reads of a build that has ended.</summary>
[Collection(SubmissionAppCollection.Name)]
public sealed class Following_a_log(SubmissionApp app)
{
    [Fact]
    public async Task Sends_each_batch_as_a_log_event_with_its_id_then_end_and_resumes_after_the_last_event_id()
    {
        var id = await LoggedBuilds.AddAsync(app.Database, "Completed");
        var log = await LoggedBuilds.WriteLogAsync(app.Database, id, 3, 16);

        using var response = await FollowAsync(id, null);
        var events = Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["log", "log", "log", "end"], events.Select(e => e.Event));
        var logs = events[..3];
        Assert.Equal(logs.Select(e => long.Parse(e.Id!)).Order(), logs.Select(e => long.Parse(e.Id!)));
        var data = logs.Select(e => JsonDocument.Parse(e.Data).RootElement).ToList();
        Assert.Equal(log, string.Concat(data.Select(d => d.GetProperty("text").GetString())));
        Assert.All(data, d => Assert.Equal((1, "stdout"), (d.GetProperty("attempt").GetInt32(), d.GetProperty("stream").GetString())));
        Assert.Equal([0L, 16L, 32L], data.Select(d => d.GetProperty("offset").GetInt64()));
        Assert.Equal((null, "{}"), (events[^1].Id, events[^1].Data));

        using var resumed = await FollowAsync(id, logs[1].Id);
        Assert.Equal([(logs[2].Id, "log"), (null, "end")], Parse(await resumed.Content.ReadAsStringAsync()).Select(e => (e.Id, e.Event)));
    }

    private async Task<HttpResponseMessage> FollowAsync(Guid id, string? lastEventId)
    {
        using var client = app.Client("viewer");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/builds/{id}/logs/follow");
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }

    /// <summary>The events of an SSE body (id, event, data), as an EventSource reads them.</summary>
    private static List<(string? Id, string Event, string Data)> Parse(string body) =>
        [.. body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block => block.Split('\n'))
            .Where(lines => lines.Any(l => l.StartsWith("event: ", StringComparison.Ordinal)))
            .Select(lines => (
                lines.Where(l => l.StartsWith("id: ", StringComparison.Ordinal)).Select(l => l[4..]).SingleOrDefault(),
                lines.Single(l => l.StartsWith("event: ", StringComparison.Ordinal))[7..],
                lines.Single(l => l.StartsWith("data: ", StringComparison.Ordinal))[6..]))];
}

/// <summary>
/// The order a live follower sends batches in (<see cref="LogFollowOrder"/>): batches stored by parallel transactions
/// become visible out of order, and a follower must neither send a later batch before an earlier one nor go past one.
/// </summary>
public sealed class Ordering_a_followed_log
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan GapWait = TimeSpan.FromSeconds(3);

    private static LogChunk Batch(long id, long sequence, string stream = "stdout") => new(id, 1, stream, (sequence - 1) * 10, $"line {sequence}\n", sequence);

    [Fact]
    public void A_batch_seen_before_the_one_before_it_waits_for_it_and_reads_start_below_both()
    {
        var order = new LogFollowOrder(GapWait, resumed: false);
        order.Start(0);

        Assert.Equal([1L], order.Add(Batch(10, 1), T0).Select(b => b.Sequence));
        Assert.Empty(order.Add(Batch(12, 3), T0));
        Assert.Equal(10, order.SafeId);
        // The next read (after id 10) sees the late batch 2, with its lower id, and batch 3 again.
        Assert.Equal([2L, 3L], order.Add(Batch(11, 2), T0).Select(b => b.Sequence));
        Assert.Empty(order.Add(Batch(12, 3), T0));
        Assert.Equal(12, order.SafeId);
    }

    [Fact]
    public void A_late_batch_below_a_later_id_of_another_stream_is_looked_up_not_skipped()
    {
        var order = new LogFollowOrder(GapWait, resumed: false);
        order.Start(0);

        // stderr's batch (id 12) is read while stdout's first (id 11) is not committed yet.
        Assert.Single(order.Add(Batch(12, 1, "stderr"), T0));
        Assert.Equal(12, order.SafeId);
        Assert.Empty(order.Add(Batch(13, 2), T0));

        Assert.Equal([(1, "stdout", 1L)], order.Gaps);
        Assert.Equal([1L, 2L], order.Add(Batch(11, 1), T0).Select(b => b.Sequence));
        Assert.Empty(order.Gaps);
        Assert.Equal(13, order.SafeId);
    }

    [Fact]
    public void A_batch_whose_predecessor_never_comes_is_sent_once_the_gap_wait_is_over()
    {
        var order = new LogFollowOrder(GapWait, resumed: false);
        order.Start(0);
        Assert.Single(order.Add(Batch(1, 1), T0));
        Assert.Empty(order.Add(Batch(3, 3), T0));
        Assert.Empty(order.Add(Batch(4, 4), T0 + TimeSpan.FromSeconds(1)));

        Assert.Empty(order.ReleaseOverdue(T0 + GapWait - TimeSpan.FromMilliseconds(1)));
        Assert.Equal([3L, 4L], order.ReleaseOverdue(T0 + GapWait).Select(b => b.Sequence));
        Assert.Equal(4, order.SafeId);
        Assert.Empty(order.Add(Batch(2, 2), T0 + GapWait));
    }

    [Fact]
    public void A_resumed_follower_takes_each_stream_up_where_it_first_sees_it()
    {
        var order = new LogFollowOrder(GapWait, resumed: true);
        order.Start(40);

        Assert.Equal([7L, 8L], order.Add(Batch(41, 7), T0).Concat(order.Add(Batch(42, 8), T0)).Select(b => b.Sequence));
        Assert.Equal(42, order.SafeId);
    }
}
