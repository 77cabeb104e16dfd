using BuildFarm.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Consumers;

/// <summary>Applies the farm's slot wait timeout and maximum build duration without a restart.</summary>
public sealed class ApplySettingsConsumer(WorkerSettings settings, ILogger<ApplySettingsConsumer> logger) : IConsumer<SettingsChanged>
{
    public Task Consume(ConsumeContext<SettingsChanged> context)
    {
        var message = context.Message;
        if (settings.Apply(message.Settings, message.Revision))
        {
            logger.LogInformation("Applied settings revision {Revision}: slot wait {SlotWait}, max build {MaxBuildMinutes} min",
                message.Revision, settings.SlotWaitTimeout, settings.MaxBuildMinutes);
        }
        return Task.CompletedTask;
    }
}
