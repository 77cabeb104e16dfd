using System.Text;
using BuildFarm.Submission.Logs;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace BuildFarm.Submission.Tests;

[Collection(SubmissionAppCollection.Name)]
public sealed class Capping_a_build_log(SubmissionApp app)
{
    private const int Cap = 64 * 1024;
    private const int BatchBytes = 5000;

    [Fact]
    public async Task Keeps_the_cap_and_one_marker_whatever_the_order_and_redelivery_of_batches()
    {
        var id = await LoggedBuilds.AddAsync(app.Database, "Failed");
        var bus = app.Services.GetRequiredService<IBus>();
        var consumed = new ConsumedBatches(id);
        using var observing = bus.ConnectConsumeMessageObserver(consumed);
        var before = app.Settings.Current;
        app.Settings.Apply(before with { MaxLogBytesPerAttempt = Cap }, app.Settings.Revision + 1);
        try
        {
            // 2 × 20 batches of 5,000 bytes (twice the cap), published at once so the consumer stores them concurrently,
            // and then every one of them again, as a redelivery would.
            var batches = new[] { "stdout", "stderr" }
                .SelectMany(stream => Enumerable.Range(1, 20).Select(n => Batch(id, stream, n)))
                .ToList();
            await Task.WhenAll(batches.Select(b => bus.Publish(b)));
            await Eventually.HoldsAsync(() => consumed.Count == batches.Count, "the batches are consumed");
            await Task.WhenAll(batches.Select(b => bus.Publish(b)));
            await Eventually.HoldsAsync(() => consumed.Count == 2 * batches.Count, "the batches are consumed again");
            Assert.Equal(0, consumed.Faults);
        }
        finally
        {
            app.Settings.Apply(before, app.Settings.Revision + 1);
        }

        using var client = app.Client("viewer");
        var log = await client.GetStringAsync($"/api/v1/builds/{id}/logs");
        var marker = $"[log truncated at {Cap} bytes by the farm]";
        Assert.Equal(1, Occurrences(log, marker));
        Assert.EndsWith(marker + "\n", log, StringComparison.Ordinal);
        // The batch that crossed the cap is kept up to the cap (here mid-line, so the marker starts a line of its own).
        var kept = log[..log.IndexOf("\n" + marker, StringComparison.Ordinal)];
        Assert.Equal(Cap, Encoding.UTF8.GetByteCount(kept));
        // Every kept line is a whole line of some batch, each batch at most once.
        var lines = kept.Split('\n');
        Assert.All(lines[..^1], line => Assert.Matches("^(stdout|stderr) [0-9]+ x+$", line));
        Assert.All(lines[..^1].GroupBy(line => line, StringComparer.Ordinal), batch => Assert.True(batch.Count() <= BatchBytes / 100, $"{batch.Key} stored twice"));

        var followed = await client.GetStringAsync($"/api/v1/builds/{id}/logs/follow");
        Assert.Equal(1, Occurrences(followed, marker));
        Assert.EndsWith("event: end\ndata: {}\n\n", followed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Counts_concurrent_batches_exactly_and_cuts_between_characters()
    {
        var id = await LoggedBuilds.AddAsync(app.Database, "Building");
        var store = app.Services.GetRequiredService<LogStore>();
        // 32 batches of 3,001 bytes (1,500 two-byte characters and a newline), each sent twice, all at once: 21 fit whole,
        // and the 2,515 bytes left would end inside a character, so 2,514 of them are kept.
        var text = new string('é', 1500) + "\n";
        var batches = Enumerable.Range(1, 32).Select(n => new BuildLogAppended
        {
            BuildId = id, Attempt = 1, ServerId = "s1", Stream = "build", Sequence = n, Offset = (n - 1) * 3001L, Text = text, At = DateTimeOffset.UtcNow,
        }).ToList();

        var stored = await Task.WhenAll(batches.Concat(batches).Select(b => Task.Run(() => store.AppendLogAsync(b, Cap, CancellationToken.None))));
        var stranger = await store.AppendLogAsync(batches[0] with { Sequence = 99, ServerId = "s2" }, Cap, CancellationToken.None);

        Assert.All(stored, Assert.True);
        Assert.False(stranger);
        using var client = app.Client("viewer");
        var log = await client.GetStringAsync($"/api/v1/builds/{id}/logs?stream=build");
        var marker = $"\n[log truncated at {Cap} bytes by the farm]\n";
        Assert.EndsWith(marker, log, StringComparison.Ordinal);
        Assert.Equal(1, Occurrences(log, marker));
        var kept = log[..^marker.Length];
        Assert.Equal(Cap - 1, Encoding.UTF8.GetByteCount(kept));
        // 21 whole batches and 1,257 characters of another (whichever won the race), no character cut in two.
        Assert.Equal(21, kept.Count(c => c == '\n'));
        Assert.Equal(21 * 1500 + 1257, kept.Count(c => c == 'é'));
    }

    /// <summary>One batch: lines of its stream's name and number, padded with x to 100 bytes.</summary>
    private static BuildLogAppended Batch(Guid buildId, string stream, int sequence)
    {
        var line = $"{stream} {sequence} ".PadRight(99, 'x') + "\n";
        return new BuildLogAppended
        {
            BuildId = buildId,
            Attempt = 1,
            ServerId = "s1",
            Stream = stream,
            Sequence = sequence,
            Offset = (sequence - 1) * (long)BatchBytes,
            Text = string.Concat(Enumerable.Repeat(line, BatchBytes / line.Length)),
            At = DateTimeOffset.UtcNow,
        };
    }

    private static int Occurrences(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    /// <summary>Counts the batches of one build the service has consumed (or failed to).</summary>
    private sealed class ConsumedBatches(Guid buildId) : IConsumeMessageObserver<BuildLogAppended>
    {
        private int count;
        private int faults;

        public int Count => Volatile.Read(ref count);

        public int Faults => Volatile.Read(ref faults);

        public Task PreConsume(ConsumeContext<BuildLogAppended> context) => Task.CompletedTask;

        public Task PostConsume(ConsumeContext<BuildLogAppended> context)
        {
            if (context.Message.BuildId == buildId)
            {
                Interlocked.Increment(ref count);
            }
            return Task.CompletedTask;
        }

        public Task ConsumeFault(ConsumeContext<BuildLogAppended> context, Exception exception)
        {
            if (context.Message.BuildId == buildId)
            {
                Interlocked.Increment(ref faults);
            }
            return Task.CompletedTask;
        }
    }
}
