using System.Text.Json;

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
