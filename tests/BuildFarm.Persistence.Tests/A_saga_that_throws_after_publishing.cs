using BuildFarm.Persistence.Tests.Counter;
using BuildFarm.Persistence.Tests.Infrastructure;
using BuildFarm.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace BuildFarm.Persistence.Tests;

public sealed class A_saga_that_throws_after_publishing : ServersFixture
{
    [Fact]
    public async Task Publishes_nothing_and_changes_nothing()
    {
        var recorder = new Recorder();
        using var host = TestHost.Build(Postgres, RabbitMq, recorder);
        await host.StartAsync();
        var bus = host.Services.GetRequiredService<IBus>();
        var counterId = NewId.NextGuid();
        await bus.Publish(new StartCounter(counterId));
        await Eventually.HoldsAsync(() => recorder.Messages<CounterStarted>().Any(), "the counter started");

        await bus.Publish(new Explode(counterId));
        await Eventually.HoldsAsync(() => recorder.Faults.Any(f => f.Message is Explode), "the explosion faulted");
        // A later increment of the same counter: its event follows the exploded one's in the outbox order, had there been one.
        await bus.Publish(new Increment(counterId, NewId.NextGuid()));
        await Eventually.HoldsAsync(() => recorder.Messages<CounterIncremented>().Any(), "the later increment's event arrived");

        Assert.Empty(recorder.Messages<CounterExploded>());
        Assert.Equal(0, await TestHost.ScalarAsync(Postgres, "SELECT count(*) FROM outbox_message WHERE message_type LIKE '%CounterExploded%'"));
        var saga = await host.Services.GetRequiredService<ILoadSagaRepository<CounterState>>().Load(counterId);
        Assert.Equal(1, saga.Count);
        Assert.Equal(2, saga.Version);
        await host.StopAsync();
    }
}
