using System.Collections.Concurrent;
using BuildFarm.Worker;

namespace BuildFarm.Worker.Tests.Support;

/// <summary>Keeps every event the worker publishes, in order, and lets a test wait for one.</summary>
public sealed class RecordingEvents : IBuildEvents
{
    private readonly ConcurrentQueue<object> _events = new();
    private readonly SemaphoreSlim _signal = new(0, int.MaxValue);

    public IReadOnlyList<object> All => [.. _events];

    public IReadOnlyList<T> Of<T>() => [.. _events.OfType<T>()];

    public Task PublishAsync<T>(T message, CancellationToken cancellationToken) where T : class
    {
        _events.Enqueue(message);
        _signal.Release();
        return Task.CompletedTask;
    }

    public async Task<T> WaitForAsync<T>(Func<T, bool> match, TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            if (_events.OfType<T>().FirstOrDefault(match) is { } found)
            {
                return found;
            }
            try
            {
                await _signal.WaitAsync(TimeSpan.FromMilliseconds(200), limit.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no {typeof(T).Name} arrived; events: {string.Join(", ", _events.Select(e => e.GetType().Name))}");
            }
        }
    }

    public Task<BuildRunFinished> FinishedAsync(Guid buildId, TimeSpan? timeout = null) =>
        WaitForAsync<BuildRunFinished>(f => f.BuildId == buildId, timeout);

    public IReadOnlyList<BuildLogAppended> Log(Guid buildId, string stream) =>
        [.. Of<BuildLogAppended>().Where(l => l.BuildId == buildId && l.Stream == stream)];
}
