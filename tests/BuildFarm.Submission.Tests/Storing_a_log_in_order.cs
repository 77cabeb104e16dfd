using System.Net.Http.Headers;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace BuildFarm.Submission.Tests;

/// <summary>
/// A Worker publishes a stream's batches in order, each after the broker confirmed the one before. The log keeps that
/// order: stored in it, and followed live in it, so a follower never sees a later line before an earlier one.
/// </summary>
[Collection(SubmissionAppCollection.Name)]
public sealed class Storing_a_log_in_order(SubmissionApp app)
{
    private const int Batches = 300;

    [Fact]
    public async Task Batches_published_in_order_are_stored_and_followed_in_order()
    {
        var id = await LoggedBuilds.AddAsync(app.Database, "Building");
        var bus = app.Services.GetRequiredService<IBus>();
        using var client = app.Client("viewer");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var followed = FollowAsync(client, $"/api/v1/builds/{id}/logs/follow?stream=stdout", Batches, timeout.Token);

        for (var n = 1; n <= Batches; n++)
        {
            await bus.Publish(new BuildLogAppended
            {
                BuildId = id, Attempt = 1, ServerId = "s1", Stream = "stdout", Sequence = n, Offset = (n - 1) * 10L,
                Text = $"line {n:00000}\n", At = DateTimeOffset.UtcNow,
            });
        }
        await Eventually.HoldsAsync(async () => (await StoredAsync(id)).Count == Batches, "every batch is stored", TimeSpan.FromSeconds(60));
        var stored = await StoredAsync(id);
        var offsets = await followed;

        Assert.Equal(Enumerable.Range(1, Batches).Select(n => (long)n), stored);
        Assert.Equal(Enumerable.Range(0, Batches).Select(n => n * 10L), offsets);
    }

    [Fact]
    public async Task A_batch_that_overtook_the_one_before_it_waits_for_it_and_a_lost_one_leaves_a_gap()
    {
        var id = await LoggedBuilds.AddAsync(app.Database, "Building");
        var bus = app.Services.GetRequiredService<IBus>();

        // 3 and 2 come before 1; 4 never comes, so 5 is stored once it has waited Logs:OrderWait (2 s).
        foreach (var n in new[] { 3, 2, 1, 5 })
        {
            await bus.Publish(new BuildLogAppended
            {
                BuildId = id, Attempt = 1, ServerId = "s1", Stream = "stdout", Sequence = n, Offset = (n - 1) * 10L,
                Text = $"line {n:00000}\n", At = DateTimeOffset.UtcNow,
            });
        }
        await Eventually.HoldsAsync(async () => (await StoredAsync(id)).Count == 4, "every batch that came is stored", TimeSpan.FromSeconds(30));

        Assert.Equal([1L, 2L, 3L, 5L], await StoredAsync(id));
    }

    /// <summary>The sequences of the build's stored batches in the order they were stored.</summary>
    private async Task<List<long>> StoredAsync(Guid id)
    {
        await using var command = app.Database.CreateCommand("SELECT sequence FROM build_log WHERE build_id = $1 ORDER BY id");
        command.Parameters.AddWithValue(id);
        var stored = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            stored.Add(reader.GetInt64(0));
        }
        return stored;
    }

    /// <summary>The offsets of the first <paramref name="count"/> log events a follower receives, in the order received.</summary>
    private static async Task<List<long>> FollowAsync(HttpClient client, string url, int count, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
        var offsets = new List<long>();
        var isLog = false;
        while (offsets.Count < count && await ReadLineAsync(reader, ct) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                isLog = line == "event: log";
            }
            else if (isLog && line.StartsWith("data: ", StringComparison.Ordinal))
            {
                offsets.Add(JsonDocument.Parse(line["data: ".Length..]).RootElement.GetProperty("offset").GetInt64());
            }
        }
        return offsets;
    }

    /// <summary>The next line, or null once <paramref name="ct"/> fires (the assertions then show what came).</summary>
    private static async Task<string?> ReadLineAsync(StreamReader reader, CancellationToken ct)
    {
        try
        {
            return await reader.ReadLineAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return null;
        }
    }
}
