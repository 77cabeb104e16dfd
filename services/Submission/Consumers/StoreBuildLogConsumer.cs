using BuildFarm.Contracts;
using BuildFarm.Submission.Builds;
using MassTransit;

namespace BuildFarm.Submission.Consumers;

/// <summary>Keeps every batch of build log the workers stream, once, in order.</summary>
public sealed class StoreBuildLogConsumer(BuildStore store) : IConsumer<BuildLogAppended>
{
    public Task Consume(ConsumeContext<BuildLogAppended> context) => store.AppendLogAsync(context.Message, context.CancellationToken);
}
