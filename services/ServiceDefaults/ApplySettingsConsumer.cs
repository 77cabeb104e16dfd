using BuildFarm.Contracts;
using MassTransit;

namespace BuildFarm.ServiceDefaults;

/// <summary>
/// Applies a settings broadcast to this process's <see cref="FarmSettingsCache"/>. Register it with an
/// instance id (a queue per process) so every process hears every change.
/// </summary>
public sealed class ApplySettingsConsumer(FarmSettingsCache cache) : IConsumer<SettingsChanged>
{
    public Task Consume(ConsumeContext<SettingsChanged> context)
    {
        cache.Apply(context.Message.Settings, context.Message.Revision);
        return Task.CompletedTask;
    }
}
