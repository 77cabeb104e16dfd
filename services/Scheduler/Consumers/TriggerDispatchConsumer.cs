using BuildFarm.Contracts;
using BuildFarm.Scheduler.Dispatch;
using MassTransit;

namespace BuildFarm.Scheduler.Consumers;

/// <summary>
/// Wakes the dispatcher when the farm's settings change (a higher limit, a lifted cap). Builds queued or ended wake it
/// as their transaction commits (<see cref="DispatchOnCommit"/>), and build servers' changes through
/// <see cref="RecordHeartbeatConsumer"/>.
/// </summary>
public sealed class TriggerDispatchConsumer(DispatchSignal dispatch) : IConsumer<SettingsChanged>
{
    public Task Consume(ConsumeContext<SettingsChanged> context)
    {
        dispatch.Poke();
        return Task.CompletedTask;
    }
}
