using BuildFarm.Contracts;
using MassTransit;

namespace BuildFarm.Submission.Logs;

/// <summary>
/// Keeps every batch of build log the workers stream, once, in order, from the server running that attempt only, up to
/// the farm's maxLogBytesPerAttempt (then a marker line, and the rest of that attempt is dropped). The batch goes to the
/// <see cref="LogWriter"/>, which stores it with whatever else arrived meanwhile in one transaction, after the batch
/// before it in its stream; the message is acknowledged once its batch is committed.
/// </summary>
public sealed class StoreBuildLogConsumer(LogWriter writer, ILogger<StoreBuildLogConsumer> logger) : IConsumer<BuildLogAppended>
{
    public async Task Consume(ConsumeContext<BuildLogAppended> context)
    {
        var batch = context.Message;
        if (!await writer.StoreAsync(batch, context.CancellationToken))
        {
            logger.LogWarning("Dropped a log batch of build {BuildId} attempt {Attempt} from {ServerId}: that server never held that attempt",
                batch.BuildId, batch.Attempt, batch.ServerId);
        }
    }
}
