using BuildFarm.Persistence.Tests.Counter;
using BuildFarm.Persistence.Tests.Infrastructure;
using BuildFarm.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace BuildFarm.Persistence.Tests;

public sealed class A_redelivered_message : ServersFixture
{
    [Fact]
    public async Task Is_applied_once()
    {
        var recorder = new Recorder();
        using var host = TestHost.Build(Postgres, RabbitMq, recorder);
        await host.StartAsync();
        var bus = host.Services.GetRequiredService<IBus>();
        var counterId = NewId.NextGuid();
        await bus.Publish(new StartCounter(counterId));
        await Eventually.HoldsAsync(() => recorder.Messages<CounterStarted>().Any(), "the counter started");
        var receivedBefore = recorder.ReceivedOn(TestHost.SagaQueue);

        var duplicated = new Increment(counterId, NewId.NextGuid());
        var messageId = NewId.NextGuid();
        for (var copy = 0; copy < 3; copy++)
        {
            await bus.Publish(duplicated, context => context.MessageId = messageId);
        }
        await bus.Publish(new Increment(counterId, NewId.NextGuid()));
        await Eventually.HoldsAsync(() => recorder.ReceivedOn(TestHost.SagaQueue) == receivedBefore + 4, "all four deliveries were processed");
        await Eventually.HoldsAsync(() => recorder.Messages<CounterIncremented>().Count >= 2, "the increments' events arrived");
        await Eventually.HoldsAsync(() => TestHost.ScalarAsync(Postgres,
            "SELECT count(*) FROM outbox_message WHERE delivered_at IS NULL").ContinueWith(t => t.Result == 0), "the outbox drained");

        var saga = await host.Services.GetRequiredService<ILoadSagaRepository<CounterState>>().Load(counterId);
        Assert.Equal(2, saga.Count);
        Assert.Equal(3, saga.Version);
        Assert.Single(recorder.Messages<CounterIncremented>(), m => m.IncrementId == duplicated.IncrementId);
        Assert.Equal(1, await TestHost.ScalarAsync(Postgres, "SELECT count(*) FROM inbox_state WHERE message_id = $1", messageId));
        await host.StopAsync();
    }
}
