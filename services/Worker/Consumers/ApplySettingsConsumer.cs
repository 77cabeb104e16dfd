using BuildFarm.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Consumers;

/// <summary>
/// Applies the farm's slot wait timeout, maximum build duration and repository cache settings (mirror
/// expiry and refresh interval) without a restart.
/// </summary>
public sealed class ApplySettingsConsumer(WorkerSettings settings, ILogger<ApplySettingsConsumer> logger) : IConsumer<SettingsChanged>
{
    public Task Consume(ConsumeContext<SettingsChanged> context)
    {
        var message = context.Message;
        if (settings.Apply(message.Settings, message.Revision))
        {
            logger.LogInformation(
                "Applied settings revision {Revision}: slot wait {SlotWait}, max build {MaxBuildMinutes} min, mirrors kept {CleanupReposAfter} unused, refreshed every {RepositorySyncInterval}",
                message.Revision, settings.SlotWaitTimeout, settings.MaxBuildMinutes, settings.CleanupReposAfter, settings.RepositorySyncInterval);
        }
        return Task.CompletedTask;
    }
}
