using MassTransit;
using MassTransit.Middleware;
using MassTransit.Saga;

namespace BuildFarm.Persistence.Saga;

/// <summary>Loads one instance by id outside a consume (<see cref="ILoadSagaRepository{TSaga}"/>), without locking it.</summary>
public sealed class PostgresLoadSagaRepositoryContext<TSaga>(PostgresSession session, PostgresSagaStore<TSaga> store, CancellationToken cancellationToken)
    : BasePipeContext(cancellationToken), LoadSagaRepositoryContext<TSaga>
    where TSaga : class, ISagaVersion
{
    public async Task<TSaga> Load(Guid correlationId) =>
        (await store.LoadAsync(session, correlationId, lockRow: false, CancellationToken))!;
}
