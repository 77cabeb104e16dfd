using BuildFarm.Contracts;
using BuildFarm.Scheduler.Dispatch;
using MassTransit;

namespace BuildFarm.Scheduler.Consumers;

/// <summary>
/// Wakes the dispatcher on the events that queue a build or free a place on a server. They are published
/// from the saga's outbox after its transaction commits, so the pass sees the new state.
/// </summary>
public sealed class TriggerDispatchConsumer(DispatchSignal dispatch)
    : IConsumer<BuildQueued>, IConsumer<BuildCompleted>, IConsumer<BuildFailed>, IConsumer<BuildCancelled>,
      IConsumer<SettingsChanged>
{
    public Task Consume(ConsumeContext<BuildQueued> context) => Poke();

    public Task Consume(ConsumeContext<BuildCompleted> context) => Poke();

    public Task Consume(ConsumeContext<BuildFailed> context) => Poke();

    public Task Consume(ConsumeContext<BuildCancelled> context) => Poke();

    public Task Consume(ConsumeContext<SettingsChanged> context) => Poke();

    private Task Poke()
    {
        dispatch.Poke();
        return Task.CompletedTask;
    }
}
