using BuildFarm.Persistence;
using BuildFarm.ServiceDefaults;
using MassTransit;

namespace BuildFarm.Scheduler.StateMachines;

/// <summary>
/// The build saga's endpoint: (after the farm's transient-failure retry, <see cref="TransientFailures"/>) retry on concurrency conflicts (each try a new transaction), then the
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
        // Transient failures (the database away) are left to the farm's outer retry, which holds the message until it is back.
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Handle<Exception>(e => !TransientFailures.Is(e));
            r.Intervals(100, 500, 1000, 2000, 5000);
        });
        endpointConfigurator.UsePostgresConflictRetry();
        endpointConfigurator.UsePostgresOutbox(context);
    }
}
