using System.Collections.Concurrent;

namespace BuildFarm.Settings.Tests.Infrastructure;

/// <summary>The settings broadcasts a test process heard on the bus.</summary>
public sealed class BusRecorder
{
    private readonly ConcurrentQueue<object> _messages = new();

    public IReadOnlyList<T> Messages<T>() => [.. _messages.OfType<T>()];

    /// <summary>The first message of type <typeparamref name="T"/> that satisfies <paramref name="match"/>, waiting up to 30 s.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool> match)
    {
        T? found = default;
        await Eventually.HoldsAsync(() => (found = Messages<T>().FirstOrDefault(match)) is not null, $"a {typeof(T).Name} arrives");
        return found!;
    }

    public Task Record(object message)
    {
        _messages.Enqueue(message);
        return Task.CompletedTask;
    }
}
