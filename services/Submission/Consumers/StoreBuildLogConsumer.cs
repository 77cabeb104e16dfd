using BuildFarm.Contracts;
using BuildFarm.Submission.Builds;
using MassTransit;

namespace BuildFarm.Submission.Consumers;

/// <summary>Keeps every batch of build log the workers stream, once, in order, from the server running that attempt only.</summary>
public sealed class StoreBuildLogConsumer(BuildStore store, ILogger<StoreBuildLogConsumer> logger) : IConsumer<BuildLogAppended>
{
    public async Task Consume(ConsumeContext<BuildLogAppended> context)
    {
        var batch = context.Message;
        if (!await store.AppendLogAsync(batch, context.CancellationToken))
        {
            logger.LogWarning("Dropped a log batch of build {BuildId} attempt {Attempt} from {ServerId}: that server never held that attempt",
                batch.BuildId, batch.Attempt, batch.ServerId);
        }
    }
}
