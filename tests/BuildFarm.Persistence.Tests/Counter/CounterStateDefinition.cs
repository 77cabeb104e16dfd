using MassTransit;

namespace BuildFarm.Persistence.Tests.Counter;

/// <summary>Retry, then the Postgres inbox/outbox, then the saga; eight messages at a time.</summary>
public sealed class CounterStateDefinition : SagaDefinition<CounterState>
{
    public CounterStateDefinition()
    {
        ConcurrentMessageLimit = 8;
    }

    protected override void ConfigureSaga(IReceiveEndpointConfigurator endpointConfigurator, ISagaConfigurator<CounterState> sagaConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UsePostgresConflictRetry(retryLimit: 40);
        endpointConfigurator.UsePostgresOutbox(context);
    }
}
