using BuildFarm.Persistence;
using MassTransit;

namespace BuildFarm.Scheduler.StateMachines;

/// <summary>
/// The build saga's endpoint: retry on concurrency conflicts (each try a new transaction), then the
/// PostgreSQL inbox and outbox (the state change and the messages it sends commit together, and a
/// redelivered message is applied once), then the saga. Messages for one build are taken in turn.
/// </summary>
public sealed class BuildStateDefinition : SagaDefinition<BuildState>
{
    public BuildStateDefinition()
    {
        ConcurrentMessageLimit = 16;
    }

    protected override void ConfigureSaga(IReceiveEndpointConfigurator endpointConfigurator, ISagaConfigurator<BuildState> sagaConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UseMessageRetry(r => r.Intervals(100, 500, 1000, 2000, 5000));
        endpointConfigurator.UsePostgresConflictRetry();
        endpointConfigurator.UsePostgresOutbox(context);
    }
}
