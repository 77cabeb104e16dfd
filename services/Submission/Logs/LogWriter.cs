using System.Diagnostics;
using System.Threading.Channels;
using BuildFarm.Contracts;
using BuildFarm.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BuildFarm.Submission.Logs;

/// <summary>
/// Stores the log batches the consumers hand it in groups, one transaction per group (group commit): whatever arrived
/// while the last group was being stored goes in the next, so a fast log costs a transaction per many batches while a
/// slow one is stored at once. Each caller waits for its own batch's commit (so a message is acknowledged only once its
/// batch is stored) and sees its own failure.
/// <para>
/// Order: a Worker publishes a stream's batches in order, but they are consumed in parallel and one can overtake the one
/// before it. A batch is stored only after the one before it in its stream (earlier in the same group, or stored before,
/// by this instance or another); otherwise it is held, up to Logs:OrderWait from its arrival (woken by the store's
/// notifications), and then stored anyway (a batch the Worker lost leaves a gap).
/// </para>
/// </summary>
public sealed class LogWriter(LogStore store, LogNotifier notifier, FarmSettingsCache settings, IOptions<LogsOptions> options,
    ILogger<LogWriter> logger) : BackgroundService
{
    /// <summary>At most this many batches, or this much text, go into one transaction.</summary>
    public const int MaxGroupBatches = 256;
    public const long MaxGroupChars = 8 * 1024 * 1024;

    /// <summary>Streams whose last stored sequence this instance remembers (beyond it they are looked up in the store).</summary>
    private const int RememberedStreams = 10_000;

    private readonly Channel<Entry> _incoming = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<StreamKey, long> _lastStored = [];

    /// <summary>
    /// Stores <paramref name="batch"/> in order with the rest of its stream and completes once it is committed: false when
    /// the server that sent it does not hold that attempt (nothing stored).
    /// </summary>
    public Task<bool> StoreAsync(BuildLogAppended batch, CancellationToken ct)
    {
        // A malformed batch fails alone, before it could spoil a group.
        if (batch.Text is null || string.IsNullOrEmpty(batch.Stream) || batch.Sequence < 1 || batch.Attempt < 1)
        {
            throw new ArgumentException($"Log batch {batch.Sequence} of build {batch.BuildId} lacks its text, stream, sequence or attempt");
        }
        var entry = new Entry(batch, Stopwatch.GetTimestamp());
        if (!_incoming.Writer.TryWrite(entry))
        {
            throw new InvalidOperationException("The log writer has stopped");
        }
        return entry.Stored.Task.WaitAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var held = new List<Entry>();
        while (!stoppingToken.IsCancellationRequested)
        {
            List<Entry> ready = [];
            try
            {
                await WaitForWorkAsync(held, stoppingToken);
                while (_incoming.Reader.TryRead(out var entry))
                {
                    held.Add(entry);
                }
                (ready, held) = await OrderAsync(held, stoppingToken);
                foreach (var group in Groups(ready))
                {
                    await StoreGroupAsync(group, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                Fail(held.Concat(ready), null, stoppingToken);
                held = [];
            }
            catch (Exception ex)
            {
                // The store is away (or worse): every message at hand fails and is retried from its queue.
                logger.LogWarning(ex, "Could not store {Count} log batches; their messages are retried", held.Count + ready.Count);
                Fail(held.Concat(ready), ex, stoppingToken);
                held = [];
            }
        }
        _incoming.Writer.TryComplete();
        while (_incoming.Reader.TryRead(out var entry))
        {
            entry.Stored.TrySetCanceled(stoppingToken);
        }
    }

    private static void Fail(IEnumerable<Entry> entries, Exception? ex, CancellationToken ct)
    {
        foreach (var entry in entries)
        {
            if (ex is null)
            {
                entry.Stored.TrySetCanceled(ct);
            }
            else
            {
                entry.Stored.TrySetException(ex);
            }
        }
    }

    /// <summary>Until a batch arrives, or (with batches held) one of their builds stores a batch or the first hold ends.</summary>
    private async Task WaitForWorkAsync(List<Entry> held, CancellationToken ct)
    {
        if (held.Count == 0)
        {
            await _incoming.Reader.WaitToReadAsync(ct);
            return;
        }
        var firstEnd = held.Min(e => e.Arrived) + (long)(options.Value.OrderWait.TotalSeconds * Stopwatch.Frequency);
        var untilEnd = TimeSpan.FromSeconds(Math.Max(0, (double)(firstEnd - Stopwatch.GetTimestamp()) / Stopwatch.Frequency));
        using var woken = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var waits = held.Select(e => e.Batch.BuildId).Distinct()
            .Select(id => notifier.WaitAsync(id, untilEnd, woken.Token))
            .Append(_incoming.Reader.WaitToReadAsync(woken.Token).AsTask())
            .Append(Task.Delay(untilEnd, woken.Token))
            .ToList();
        await Task.WhenAny(waits);
        await woken.CancelAsync();
        ct.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Splits the batches at hand into those that may be stored now, in the order to store them (each stream by sequence),
    /// and those still waiting for the batch before them.
    /// </summary>
    private async Task<(List<Entry> Ready, List<Entry> Waiting)> OrderAsync(List<Entry> entries, CancellationToken ct)
    {
        var streams = entries.GroupBy(e => e.Key).ToList();
        // Streams whose first batch's predecessor is neither remembered nor in hand: one look-up for all of them.
        var unknown = streams
            .Select(s => (s.Key, First: s.Min(e => e.Batch.Sequence)))
            .Where(s => s.First > 1 && !(_lastStored.TryGetValue(s.Key, out var last) && last >= s.First - 1))
            .ToList();
        var storedBefore = unknown.Count == 0 ? [] : await store.StoredAmongAsync(unknown.Select(s => (s.Key.BuildId, s.Key.Attempt, s.Key.Stream, s.First - 1)).ToList(), ct);

        var orderWait = (long)(options.Value.OrderWait.TotalSeconds * Stopwatch.Frequency);
        var now = Stopwatch.GetTimestamp();
        var ready = new List<Entry>();
        var waiting = new List<Entry>();
        foreach (var stream in streams)
        {
            _lastStored.TryGetValue(stream.Key, out var last);
            var next = last + 1;
            foreach (var entry in stream.OrderBy(e => e.Batch.Sequence))
            {
                var sequence = entry.Batch.Sequence;
                var afterPredecessor = sequence <= next
                    || storedBefore.Contains((stream.Key.BuildId, stream.Key.Attempt, stream.Key.Stream, sequence - 1));
                if (!afterPredecessor && now - entry.Arrived < orderWait)
                {
                    // This one and the rest of its stream wait for the gap before it to fill.
                    waiting.AddRange(stream.Where(e => e.Batch.Sequence >= sequence));
                    break;
                }
                if (!afterPredecessor)
                {
                    logger.LogInformation("Stored log batch {Sequence} of build {BuildId} attempt {Attempt} {Stream} without the one before it (not here within {Wait})",
                        sequence, stream.Key.BuildId, stream.Key.Attempt, stream.Key.Stream, options.Value.OrderWait);
                }
                ready.Add(entry);
                next = Math.Max(next, sequence + 1);
            }
        }
        // Streams interleaved as their batches arrived, each in sequence.
        var inSequence = ready.GroupBy(e => e.Key).ToDictionary(s => s.Key, s => new Queue<Entry>(s.OrderBy(e => e.Batch.Sequence)));
        return ([.. ready.OrderBy(e => e.Arrived).Select(e => inSequence[e.Key].Dequeue())], waiting);
    }

    /// <summary>The ready batches in groups of at most <see cref="MaxGroupBatches"/> and <see cref="MaxGroupChars"/>, each stream in order.</summary>
    private static IEnumerable<List<Entry>> Groups(List<Entry> ready)
    {
        var group = new List<Entry>();
        long chars = 0;
        foreach (var entry in ready)
        {
            if (group.Count > 0 && (group.Count == MaxGroupBatches || chars + entry.Batch.Text.Length > MaxGroupChars))
            {
                yield return group;
                group = [];
                chars = 0;
            }
            group.Add(entry);
            chars += entry.Batch.Text.Length;
        }
        if (group.Count > 0)
        {
            yield return group;
        }
    }

    private async Task StoreGroupAsync(List<Entry> group, CancellationToken ct)
    {
        // Entries already completed are skipped by TrySet… if a later group fails after this one was stored.
        var held = await store.AppendLogsAsync(group.Select(e => e.Batch).ToList(), settings.Current.MaxLogBytesPerAttempt, ct);
        if (_lastStored.Count > RememberedStreams)
        {
            _lastStored.Clear();
        }
        for (var i = 0; i < group.Count; i++)
        {
            var key = group[i].Key;
            _lastStored[key] = Math.Max(_lastStored.GetValueOrDefault(key), group[i].Batch.Sequence);
            group[i].Stored.TrySetResult(held[i]);
        }
    }

    private readonly record struct StreamKey(Guid BuildId, int Attempt, string Stream);

    private sealed class Entry(BuildLogAppended batch, long arrived)
    {
        public BuildLogAppended Batch { get; } = batch;
        public long Arrived { get; } = arrived;
        public StreamKey Key { get; } = new(batch.BuildId, batch.Attempt, batch.Stream);
        public TaskCompletionSource<bool> Stored { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
