using BuildFarm.Contracts;
using BuildFarm.Worker.Builds;
using MassTransit;

namespace BuildFarm.Worker.Consumers;

/// <summary>
/// Takes a dispatched attempt: acknowledges it (BuildRunAccepted) and hands it to the background runner,
/// so the delivery is settled at once and never held for a build's duration.
/// </summary>
public sealed class RunBuildConsumer(BuildRunner runner) : IConsumer<DispatchBuild>
{
    public Task Consume(ConsumeContext<DispatchBuild> context) => runner.DispatchAsync(context.Message, context.CancellationToken);
}
