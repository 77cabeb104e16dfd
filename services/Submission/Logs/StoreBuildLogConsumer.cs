using BuildFarm.Contracts;
using BuildFarm.ServiceDefaults;
using MassTransit;

namespace BuildFarm.Submission.Logs;

/// <summary>
/// Keeps every batch of build log the workers stream, once, in order, from the server running that attempt only, up to
/// the farm's maxLogBytesPerAttempt (then a marker line, and the rest of that attempt is dropped).
/// </summary>
public sealed class StoreBuildLogConsumer(LogStore store, FarmSettingsCache settings, ILogger<StoreBuildLogConsumer> logger) : IConsumer<BuildLogAppended>
{
    public async Task Consume(ConsumeContext<BuildLogAppended> context)
    {
        var batch = context.Message;
        if (!await store.AppendLogAsync(batch, settings.Current.MaxLogBytesPerAttempt, context.CancellationToken))
        {
            logger.LogWarning("Dropped a log batch of build {BuildId} attempt {Attempt} from {ServerId}: that server never held that attempt",
                batch.BuildId, batch.Attempt, batch.ServerId);
        }
    }
}
