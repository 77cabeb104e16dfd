using MassTransit;
using MassTransit.Context;
using MassTransit.Saga;
using Npgsql;

namespace BuildFarm.Persistence.Saga;

/// <summary>One message's view of the saga table, in the scope's <see cref="PostgresSession"/> transaction.</summary>
public sealed class PostgresSagaRepositoryContext<TSaga, TMessage> : ConsumeContextScope<TMessage>, SagaRepositoryContext<TSaga, TMessage>
    where TSaga : class, ISagaVersion
    where TMessage : class
{
    private readonly PostgresSession _session;
    private readonly PostgresSagaStore<TSaga> _store;
    private readonly ConsumeContext<TMessage> _consumeContext;
    private readonly ISagaConsumeContextFactory<PostgresSession, TSaga> _factory;

    public PostgresSagaRepositoryContext(
        PostgresSession session,
        PostgresSagaStore<TSaga> store,
        ConsumeContext<TMessage> consumeContext,
        ISagaConsumeContextFactory<PostgresSession, TSaga> factory)
        : base(consumeContext)
    {
        _session = session;
        _store = store;
        _consumeContext = consumeContext;
        _factory = factory;
    }

    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> consumeContext, TSaga instance, SagaConsumeContextMode mode)
        where T : class =>
        _factory.CreateSagaConsumeContext(_session, consumeContext, instance, mode);

    public Task<SagaConsumeContext<TSaga, TMessage>> Add(TSaga instance) =>
        _factory.CreateSagaConsumeContext(_session, _consumeContext, instance, SagaConsumeContextMode.Add);

    /// <summary>Inserts at once (InsertOnInitial); null when the instance exists already, so the policy loads it instead.</summary>
    public async Task<SagaConsumeContext<TSaga, TMessage>> Insert(TSaga instance)
    {
        if (!await _store.InsertAsync(_session, instance, CancellationToken))
        {
            return null!;
        }
        return await _factory.CreateSagaConsumeContext(_session, _consumeContext, instance, SagaConsumeContextMode.Insert);
    }

    public async Task<SagaConsumeContext<TSaga, TMessage>> Load(Guid correlationId)
    {
        var instance = await _store.LoadAsync(_session, correlationId, _store.LockOnLoad, CancellationToken);
        return instance is null
            ? null!
            : await _factory.CreateSagaConsumeContext(_session, _consumeContext, instance, SagaConsumeContextMode.Load);
    }

    /// <summary>Stores an instance created by this message (<see cref="Add"/>); another message that created it first is a conflict.</summary>
    public async Task Save(SagaConsumeContext<TSaga> context)
    {
        if (!await _store.InsertAsync(_session, context.Saga, CancellationToken))
        {
            throw new ConcurrencyException($"Saga insert failed: {_store.TableName} has the instance already", typeof(TSaga), context.Saga.CorrelationId);
        }
    }

    public Task Update(SagaConsumeContext<TSaga> context) => Translate(context.Saga, () => _store.UpdateAsync(_session, context.Saga, CancellationToken));

    public Task Delete(SagaConsumeContext<TSaga> context) => Translate(context.Saga, () => _store.DeleteAsync(_session, context.Saga, CancellationToken));

    public Task Discard(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    public Task Undo(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    private static async Task Translate(TSaga saga, Func<Task> write)
    {
        try
        {
            await write();
        }
        catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.UniqueViolation
                                                     or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected)
        {
            throw new ConcurrencyException($"Saga write conflicted ({exception.SqlState})", typeof(TSaga), saga.CorrelationId, exception);
        }
    }
}
