using BuildFarm.Persistence.Tests.Counter;
using BuildFarm.Persistence.Tests.Infrastructure;
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

        await bus.Publish(early);
        await TestHost.EventuallyAsync(() => recorder.Faults.Any(f => Equals(f.Message, early)), "the early increment failed at least once");
        await bus.Publish(new StartCounter(counterId));
        await TestHost.EventuallyAsync(() => recorder.Messages<CounterIncremented>().Any(m => m.IncrementId == early.IncrementId),
            "the early increment was applied");

        var saga = await host.Services.GetRequiredService<ILoadSagaRepository<CounterState>>().Load(counterId);
        Assert.Equal(1, saga.Count);
        Assert.IsAssignableFrom<SagaException>(recorder.Faults.First(f => Equals(f.Message, early)).Exception);
        await host.StopAsync();
    }
}
