using BuildFarm.Contracts;
using BuildFarm.Worker;

namespace BuildFarm.Worker.Bench;

/// <summary>
/// Takes the worker's events as a bus would (the message is dropped once counted): counts log bytes per stream,
/// checks each stream's sequence and offsets have no gap, and signals the end of a build.
/// </summary>
internal sealed class CountingEvents : IBuildEvents
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Sequence, long Bytes)> _streams = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<BuildRunFinished> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long LogMessages { get; private set; }

    public long LargestBatchChars { get; private set; }

    public string? Gap { get; private set; }

    public Task<BuildRunFinished> Finished => _finished.Task;

    public long BytesOf(string stream)
    {
        lock (_gate)
        {
            return _streams.TryGetValue(stream, out var s) ? s.Bytes : 0;
        }
    }

    public Task PublishAsync<T>(T message, CancellationToken cancellationToken) where T : class
    {
        switch (message)
        {
            case BuildLogAppended log:
                lock (_gate)
                {
                    var (sequence, bytes) = _streams.GetValueOrDefault(log.Stream);
                    if (log.Sequence != sequence + 1 || log.Offset != bytes)
                    {
                        Gap ??= $"{log.Stream}: batch {log.Sequence} at offset {log.Offset}, expected {sequence + 1} at {bytes}";
                    }
                    // The stand-in's output is ASCII: one byte per character.
                    _streams[log.Stream] = (log.Sequence, log.Offset + log.Text.Length);
                    LogMessages++;
                    LargestBatchChars = Math.Max(LargestBatchChars, log.Text.Length);
                }
                break;
            case BuildRunFinished finished:
                _finished.TrySetResult(finished);
                break;
        }
        return Task.CompletedTask;
    }
}
