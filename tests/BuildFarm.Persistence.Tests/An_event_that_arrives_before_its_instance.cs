using BuildFarm.Persistence.Tests.Counter;
using BuildFarm.Persistence.Tests.Infrastructure;
using BuildFarm.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace BuildFarm.Persistence.Tests;

public sealed class An_event_that_arrives_before_its_instance : ServersFixture
{
    [Fact]
    public async Task Is_retried_until_the_instance_exists_not_dropped()
    {
        var recorder = new Recorder();
        using var host = TestHost.Build(Postgres, RabbitMq, recorder);
        await host.StartAsync();
        var bus = host.Services.GetRequiredService<IBus>();
        var counterId = NewId.NextGuid();
        var early = new Increment(counterId, NewId.NextGuid());

        var loader = host.Services.GetRequiredService<ILoadSagaRepository<CounterState>>();

        await bus.Publish(early);
        await Eventually.HoldsAsync(() => recorder.ArrivedOn(TestHost.SagaQueue) == 1, "the early increment reached the saga");
        await Task.Delay(TimeSpan.FromMilliseconds(300)); // let it fail against the missing instance a few times
        Assert.Null(await loader.Load(counterId));
        Assert.Empty(recorder.Messages<CounterIncremented>());
        await bus.Publish(new StartCounter(counterId));
        await Eventually.HoldsAsync(() => recorder.Messages<CounterIncremented>().Any(m => m.IncrementId == early.IncrementId),
            "the early increment was applied");

        var saga = await loader.Load(counterId);
        Assert.Equal(1, saga.Count);
        Assert.Equal(2, saga.Version);
        await host.StopAsync();
    }
}
