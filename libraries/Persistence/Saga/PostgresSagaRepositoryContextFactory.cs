using MassTransit;
using MassTransit.Middleware;
using MassTransit.Saga;

namespace BuildFarm.Persistence.Saga;

/// <summary>
/// MassTransit's saga repository seam for the Postgres saga table (scoped). When the consume already has a
/// transaction (the Postgres outbox began it) the saga joins it and the outbox commits; otherwise this factory
/// begins and commits a transaction around the saga itself.
/// </summary>
public sealed class PostgresSagaRepositoryContextFactory<TSaga>(
    PostgresSession session,
    PostgresSagaStore<TSaga> store,
    ISagaConsumeContextFactory<PostgresSession, TSaga> factory)
    : ISagaRepositoryContextFactory<TSaga>, ILoadSagaRepositoryContextFactory<TSaga>
    where TSaga : class, ISagaVersion
{
    public async Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<TSaga, T>> next)
        where T : class
    {
        if (session.HasTransaction)
        {
            await next.Send(new PostgresSagaRepositoryContext<TSaga, T>(session, store, context, factory));
            return;
        }

        await session.BeginAsync(context.CancellationToken);
        try
        {
            await next.Send(new PostgresSagaRepositoryContext<TSaga, T>(session, store, context, factory));
            await session.CommitAsync(context.CancellationToken);
        }
        catch
        {
            await session.RollbackAsync();
            throw;
        }
    }

    /// <summary>
    /// Correlation by an expression (<c>CorrelateBy(...)</c>) is not supported: it would scan the jsonb of every row.
    /// Correlate saga events by id (<c>CorrelateById</c>), as every BuildFarm message carries its BuildId.
    /// </summary>
    public Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<TSaga> query, IPipe<SagaRepositoryQueryContext<TSaga, T>> next)
        where T : class =>
        throw new NotSupportedException(
            $"The Postgres saga repository of {typeof(TSaga).Name} correlates by CorrelationId only; use CorrelateById for {typeof(T).Name}.");

    public async Task<T> Execute<T>(Func<LoadSagaRepositoryContext<TSaga>, Task<T>> asyncMethod, CancellationToken cancellationToken = default)
        where T : class
    {
        await session.OpenAsync(cancellationToken);
        return await asyncMethod(new PostgresLoadSagaRepositoryContext<TSaga>(session, store, cancellationToken));
    }

    public void Probe(ProbeContext context)
    {
        context.Add("persistence", "postgres");
        context.Add("table", store.TableName);
    }
}
