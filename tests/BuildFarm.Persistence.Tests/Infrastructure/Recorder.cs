using System.Collections.Concurrent;
using MassTransit;

namespace BuildFarm.Persistence.Tests.Infrastructure;

/// <summary>What the test bus received: events (via <see cref="RecordingConsumer"/>), finished receives per queue, consume faults.</summary>
public sealed class Recorder : IReceiveObserver, IConsumeObserver
{
    public const string TestHeader = "X-Test";

    private readonly ConcurrentQueue<Received> _received = new();
    private readonly ConcurrentDictionary<string, int> _receivedPerQueue = new();
    private readonly ConcurrentDictionary<string, int> _arrivedPerQueue = new();
    private readonly ConcurrentQueue<(object Message, Exception Exception)> _faults = new();

    public IReadOnlyList<Received> All => [.. _received];

    public IReadOnlyList<T> Messages<T>() => [.. _received.Select(r => r.Message).OfType<T>()];

    public IReadOnlyList<(object Message, Exception Exception)> Faults => [.. _faults];

    /// <summary>Deliveries the queue finished processing (consumed, skipped or faulted).</summary>
    public int ReceivedOn(string queue) => _receivedPerQueue.GetValueOrDefault(queue);

    /// <summary>Deliveries that reached the queue's receive pipe (before any retry).</summary>
    public int ArrivedOn(string queue) => _arrivedPerQueue.GetValueOrDefault(queue);

    public void Record<T>(ConsumeContext<T> context)
        where T : class =>
        _received.Enqueue(new Received(context.Message, context.MessageId, context.CorrelationId, context.ConversationId,
            context.Headers.Get<string>(TestHeader), context.DestinationAddress));

    public Task PreReceive(ReceiveContext context)
    {
        _arrivedPerQueue.AddOrUpdate(context.InputAddress.AbsolutePath.Split('/')[^1], 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    public Task PostReceive(ReceiveContext context)
    {
        _receivedPerQueue.AddOrUpdate(context.InputAddress.AbsolutePath.Split('/')[^1], 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType)
        where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception)
        where T : class => Task.CompletedTask;

    public Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        _receivedPerQueue.AddOrUpdate(context.InputAddress.AbsolutePath.Split('/')[^1], 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    public Task PreConsume<T>(ConsumeContext<T> context)
        where T : class => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context)
        where T : class => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception)
        where T : class
    {
        _faults.Enqueue((context.Message, exception));
        return Task.CompletedTask;
    }
}
