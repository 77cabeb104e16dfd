using BuildFarm.Persistence.Tests.Counter;
using BuildFarm.Persistence.Tests.Infrastructure;
using BuildFarm.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace BuildFarm.Persistence.Tests;

public sealed class Concurrent_increments_for_one_instance : ServersFixture
{
    private const int Increments = 200;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task End_with_the_exact_count_and_version_and_one_event_per_increment(bool lockOnLoad)
    {
        var recorder = new Recorder();
        using var host = TestHost.Build(Postgres, RabbitMq, recorder, lockOnLoad);
        await host.StartAsync();
        var bus = host.Services.GetRequiredService<IBus>();
        var counterId = NewId.NextGuid();

        await bus.Publish(new StartCounter(counterId));
        await Eventually.HoldsAsync(() => recorder.Messages<CounterStarted>().Any(m => m.CounterId == counterId), "the counter started");
        var incrementIds = Enumerable.Range(0, Increments).Select(_ => NewId.NextGuid()).ToList();
        await Task.WhenAll(incrementIds.Select(id => bus.Publish(new Increment(counterId, id))));
        await Eventually.HoldsAsync(
            () => recorder.Messages<CounterIncremented>().Count(m => m.CounterId == counterId) >= Increments,
            $"{Increments} CounterIncremented events arrived");
        await Eventually.HoldsAsync(() => TestHost.ScalarAsync(Postgres,
            "SELECT count(*) FROM outbox_message WHERE delivered_at IS NULL").ContinueWith(t => t.Result == 0), "the outbox drained");

        var saga = await host.Services.GetRequiredService<ILoadSagaRepository<CounterState>>().Load(counterId);
        var events = recorder.Messages<CounterIncremented>().Where(m => m.CounterId == counterId).ToList();
        Assert.Equal(Increments, saga.Count);
        Assert.Equal(Increments + 1, saga.Version);
        Assert.Equal("Counting", saga.CurrentState);
        Assert.Equal(Increments, events.Count);
        Assert.Equal(incrementIds.Order(), events.Select(e => e.IncrementId).Order());
        Assert.Equal(Enumerable.Range(1, Increments), events.Select(e => e.Count).Order());
        Assert.Equal(Increments, await TestHost.ScalarAsync(Postgres, "SELECT count(*) FROM counter_note WHERE counter_id = $1", counterId));
        // The typed column is written with the data, in the same statement: it holds the last committed count.
        Assert.Equal(Increments, await TestHost.ScalarAsync(Postgres, "SELECT count::bigint FROM counter_state WHERE correlation_id = $1", counterId));
        await host.StopAsync();
    }
}
