using System.Collections.Concurrent;
using BuildFarm.Testing;
using BuildFarm.Worker.Spool;
using Microsoft.Extensions.Logging.Abstractions;

namespace BuildFarm.Worker.Tests;

/// <summary>The Worker's durable spool for results and log batches, on a real directory, with a broker played by the test.</summary>
public sealed class Spooling_results_and_logs : IDisposable
{
    // The spool pauses up to 5 s between refused sends, and a send may take 30 s: twice the usual patience.
    private static readonly TimeSpan Patience = 2 * Eventually.Patience;

    private readonly TempDirectory _directory = new("bfspool");
    private readonly Guid _buildId = Guid.NewGuid();

    private string SpoolDirectory => Path.Combine(_directory.Path, "spool");

    [Fact]
    public async Task Messages_written_while_the_broker_refuses_them_are_sent_in_order_and_once_when_it_takes_them_again()
    {
        var broker = new Broker { Refusing = true };
        using var spool = new EventSpool(SpoolDirectory, 1L << 30, broker.SendAsync, NullLogger.Instance);
        await spool.StartAsync(CancellationToken.None);
        var written = new List<object>();
        for (var sequence = 1; sequence <= 40; sequence++)
        {
            written.Add(Batch(sequence));
        }
        written.Add(Finished());
        foreach (var message in written)
        {
            await spool.AppendAsync(message, CancellationToken.None);
        }
        await Eventually.HoldsAsync(() => broker.Refused >= 3, "the broker refused three sends", Patience);
        Assert.Empty(broker.Taken);
        Assert.Equal(written.Count, spool.Pending);

        broker.Refusing = false;
        await Eventually.HoldsAsync(() => spool.Pending == 0, "the spool is empty", Patience);
        await spool.StopAsync(CancellationToken.None);

        Assert.Equal(written.Select(Json), broker.Taken.Select(t => Json(t.Message)));
        Assert.Equal(written.Count, broker.Taken.Select(t => t.MessageId).Distinct().Count());
        Assert.Empty(Directory.GetFiles(SpoolDirectory));
    }

    [Fact]
    public async Task A_new_worker_sends_what_the_spool_of_an_earlier_one_still_holds_with_the_same_message_ids()
    {
        var refusing = new Broker { Refusing = true };
        var written = new List<object> { Batch(1), Batch(2), Finished() };
        using (var earlier = new EventSpool(SpoolDirectory, 1L << 30, refusing.SendAsync, NullLogger.Instance))
        {
            await earlier.StartAsync(CancellationToken.None);
            foreach (var message in written)
            {
                await earlier.AppendAsync(message, CancellationToken.None);
            }
            await Eventually.HoldsAsync(() => refusing.Refused >= 1, "the broker refused a send", Patience);
            await earlier.StopAsync(new CancellationToken(canceled: true));
        }
        // A write the earlier Worker did not finish is not a message.
        await File.WriteAllTextAsync(Path.Combine(SpoolDirectory, "0000000000000000009.tmp"), "{\"Type\":\"BuildRunFi");

        var broker = new Broker();
        using var later = new EventSpool(SpoolDirectory, 1L << 30, broker.SendAsync, NullLogger.Instance);
        await later.StartAsync(CancellationToken.None);
        await later.Recovered.WaitAsync(TimeSpan.FromSeconds(30));
        var more = Batch(3);
        await later.AppendAsync(more, CancellationToken.None);
        await Eventually.HoldsAsync(() => later.Pending == 0, "the later spool is empty", Patience);
        await later.StopAsync(CancellationToken.None);

        Assert.Equal(written.Append(more).Select(Json), broker.Taken.Select(t => Json(t.Message)));
        Assert.Equal(refusing.Tried.Take(1), broker.Taken.Take(1).Select(t => t.MessageId));
        Assert.Empty(Directory.GetFiles(SpoolDirectory));
    }

    [Fact]
    public async Task A_message_leaves_the_spool_only_once_the_broker_confirmed_it()
    {
        var broker = new Broker { Holding = true };
        using var spool = new EventSpool(SpoolDirectory, 1L << 30, broker.SendAsync, NullLogger.Instance);
        await spool.StartAsync(CancellationToken.None);
        await spool.AppendAsync(Finished(), CancellationToken.None);
        await Eventually.HoldsAsync(() => broker.Tried.Count >= 1, "the spool tried a send", Patience);

        Assert.Equal(1, spool.Pending);
        Assert.Single(Directory.GetFiles(SpoolDirectory, "*.json"));

        broker.Holding = false;
        await Eventually.HoldsAsync(() => spool.Pending == 0, "the spool is empty", Patience);
        await spool.StopAsync(CancellationToken.None);
        Assert.Empty(Directory.GetFiles(SpoolDirectory, "*.json"));
        Assert.Single(broker.Taken);
    }

    [Fact]
    public async Task A_full_spool_holds_log_batches_back_but_never_a_result()
    {
        var broker = new Broker { Refusing = true };
        using var spool = new EventSpool(SpoolDirectory, 1024 * 1024, broker.SendAsync, NullLogger.Instance);
        await spool.StartAsync(CancellationToken.None);
        var sequence = 0;
        while (spool.Pending == 0 || new DirectoryInfo(SpoolDirectory).GetFiles().Sum(f => f.Length) < 1024 * 1024)
        {
            await spool.AppendAsync(Batch(++sequence, new string('x', 64 * 1024)), CancellationToken.None);
        }
        var held = spool.AppendAsync(Batch(++sequence), CancellationToken.None);
        await spool.AppendAsync(Finished(), CancellationToken.None);

        Assert.False(held.IsCompleted);
        broker.Refusing = false;
        await held.WaitAsync(TimeSpan.FromSeconds(60));
        await Eventually.HoldsAsync(() => spool.Pending == 0, "the spool is empty", Patience);
        await spool.StopAsync(CancellationToken.None);
        Assert.Equal(sequence + 1, broker.Taken.Count);
    }

    private BuildLogAppended Batch(int sequence, string? text = null) => new()
    {
        BuildId = _buildId, Attempt = 1, ServerId = "s1", Stream = "stdout", Sequence = sequence, Offset = (sequence - 1) * 10L,
        Text = text ?? $"line {sequence:D4}\n", At = DateTimeOffset.UnixEpoch.AddSeconds(sequence),
    };

    private BuildRunFinished Finished() => new()
    {
        BuildId = _buildId, Attempt = 1, ServerId = "s1", Outcome = BuildRunOutcome.Succeeded, ExitCode = 0, FencingToken = 7,
        FinishedAt = DateTimeOffset.UnixEpoch.AddHours(1), Commit = new string('a', 40),
        Artifacts = [new Artifact("hello-1.0-1.noarch.rpm", 1234, new string('b', 64), "rpm")],
    };

    private static string Json(object message) => System.Text.Json.JsonSerializer.Serialize(message, message.GetType());

    public void Dispose() => _directory.Dispose();

    /// <summary>A broker that refuses, holds (until released) or takes what it is sent.</summary>
    private sealed class Broker
    {
        public volatile bool Refusing;
        public volatile bool Holding;
        private int _refused;

        public int Refused => _refused;
        public ConcurrentQueue<Guid> Tried { get; } = new();
        public ConcurrentQueue<(object Message, Guid MessageId)> Taken { get; } = new();

        public async Task SendAsync(object message, Guid messageId, CancellationToken cancellationToken)
        {
            Tried.Enqueue(messageId);
            if (Refusing)
            {
                Interlocked.Increment(ref _refused);
                throw new InvalidOperationException("the broker is away");
            }
            while (Holding)
            {
                await Task.Delay(20, cancellationToken);
            }
            Taken.Enqueue((message, messageId));
        }
    }
}
