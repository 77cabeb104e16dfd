using MassTransit;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;
using MassTransit.Transports;
using Npgsql;

namespace BuildFarm.Persistence.Outbox;

/// <summary>
/// A transactional publish for code outside a consumer (scoped; e.g. the HTTP gateway): rows it writes and messages
/// it publishes or sends commit together, and the relay delivers the messages after the commit, looking exactly like
/// messages published on the bus (MassTransit builds and serializes them; the outbox only stores the result).
/// <code>
/// await outbox.BeginAsync(ct);
/// await using (var cmd = outbox.Session.CreateCommand("INSERT INTO build (id, ...) VALUES ($1, ...)")) { ...; await cmd.ExecuteNonQueryAsync(ct); }
/// await outbox.PublishAsync(new BuildRequested { BuildId = id, ... }, ct);
/// await outbox.CommitAsync(ct);   // disposing the scope without committing rolls back and publishes nothing
/// </code>
/// Uses the scope's <see cref="PostgresSession"/>, so do not use it inside a consume that already has the consume outbox.
/// </summary>
public sealed class PostgresOutbox(PostgresSession session, IBus bus, IServiceProvider provider) : OutboxSendContext
{
    private Guid _transactionId;
    private IPublishEndpoint? _publishEndpoint;
    private ISendEndpointProvider? _sendEndpointProvider;

    public PostgresSession Session => session;

    public NpgsqlConnection Connection => session.Connection;

    public NpgsqlTransaction Transaction => session.Transaction ?? throw new InvalidOperationException("Call BeginAsync first.");

    /// <summary>Publishes captured into the transaction (MassTransit's publish endpoint over the outbox).</summary>
    public IPublishEndpoint PublishEndpoint => _publishEndpoint ??= new PublishEndpoint(new OutboxPublishEndpointProvider(this, bus));

    /// <summary>Sends captured into the transaction (MassTransit's send endpoint provider over the outbox).</summary>
    public ISendEndpointProvider SendEndpointProvider => _sendEndpointProvider ??= new OutboxSendEndpointProvider(this, bus);

    public async Task BeginAsync(CancellationToken cancellationToken = default)
    {
        await session.BeginAsync(cancellationToken);
        _transactionId = NewId.NextGuid();
    }

    public Task PublishAsync<T>(T message, CancellationToken cancellationToken = default)
        where T : class
    {
        EnsureTransaction();
        return PublishEndpoint.Publish(message, cancellationToken);
    }

    public Task PublishAsync<T>(T message, Action<PublishContext<T>> configure, CancellationToken cancellationToken = default)
        where T : class
    {
        EnsureTransaction();
        return PublishEndpoint.Publish(message, Pipe.Execute(configure), cancellationToken);
    }

    public async Task SendAsync<T>(Uri destinationAddress, T message, CancellationToken cancellationToken = default)
        where T : class
    {
        EnsureTransaction();
        var endpoint = await SendEndpointProvider.GetSendEndpoint(destinationAddress);
        await endpoint.Send(message, cancellationToken);
    }

    public Task CommitAsync(CancellationToken cancellationToken = default) => session.CommitAsync(cancellationToken);

    public Task RollbackAsync() => session.RollbackAsync();

    Task OutboxSendContext.AddSend<T>(SendContext<T> context)
    {
        EnsureTransaction();
        session.AddOutboxRow(OutboxRow.From(context, _transactionId.ToString()));
        return Task.CompletedTask;
    }

    object? IServiceProvider.GetService(Type serviceType) => provider.GetService(serviceType);

    private void EnsureTransaction()
    {
        if (!session.HasTransaction)
        {
            throw new InvalidOperationException("PostgresOutbox: call BeginAsync before publishing or sending.");
        }
    }
}
