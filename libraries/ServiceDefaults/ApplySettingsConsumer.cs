using BuildFarm.Contracts;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace BuildFarm.ServiceDefaults;

/// <summary>
/// The one consumer of <see cref="SettingsChanged"/>: applies the broadcast to this process's
/// <see cref="FarmSettingsCache"/>. Scheduler and Submission have it on a queue of the process's own
/// (<see cref="FarmSettingsExtensions.AddFarmSettingsListener"/>); a Worker on its server's queue.
/// </summary>
public sealed partial class ApplySettingsConsumer(FarmSettingsCache cache, ILogger<ApplySettingsConsumer> logger) : IConsumer<SettingsChanged>
{
    public Task Consume(ConsumeContext<SettingsChanged> context)
    {
        var message = context.Message;
        if (cache.Apply(message.Settings, message.Revision))
        {
            LogApplied(message.Revision, message.ChangedBy ?? "unknown");
        }
        return Task.CompletedTask;
    }

    [LoggerMessage(LogLevel.Information, "Applied farm settings revision {Revision} (changed by {ChangedBy})")]
    private partial void LogApplied(long revision, string changedBy);
}
