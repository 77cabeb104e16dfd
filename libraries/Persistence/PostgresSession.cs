using BuildFarm.Persistence.Outbox;
using Npgsql;

namespace BuildFarm.Persistence;

/// <summary>
/// One connection and at most one open transaction, shared by everything in a DI scope: inside a consume,
/// the Postgres outbox, the saga repository and the consumer's (or saga activity's) own SQL all run in the
/// SAME transaction, which commits once, after the consumer returns. Resolve it from the consume scope:
/// <code>
/// var session = context.GetServiceOrCreateInstance&lt;PostgresSession&gt;();   // in a saga activity or consumer
/// await using var cmd = session.CreateCommand("UPDATE build_log SET ... WHERE build_id = $1");
/// </code>
/// When the endpoint uses the outbox (or the message goes to a Postgres saga) the transaction is already
/// open; code that owns the unit of work itself (e.g. <see cref="Outbox.PostgresOutbox"/>) calls
/// <see cref="BeginAsync"/> and <see cref="CommitAsync"/>. Not thread-safe: one command at a time.
/// </summary>
public sealed class PostgresSession(
    NpgsqlDataSource dataSource, OutboxSignal? outboxSignal = null, Microsoft.Extensions.Options.IOptions<PostgresOutboxOptions>? outboxOptions = null,
    IEnumerable<IOutboxCommitObserver>? commitObservers = null)
    : IAsyncDisposable
{
    private readonly IOutboxCommitObserver[] _commitObservers = commitObservers?.ToArray() ?? [];
    private readonly List<OutboxRow> _pendingOutbox = [];
    private NpgsqlConnection? _connection;

    /// <summary>The open connection (opened by <see cref="BeginAsync"/> or <see cref="OpenAsync"/>).</summary>
    public NpgsqlConnection Connection => _connection ?? throw new InvalidOperationException("The PostgresSession has no open connection.");

    /// <summary>The open transaction, or null when none is open.</summary>
    public NpgsqlTransaction? Transaction { get; private set; }

    public bool HasTransaction => Transaction is not null;

    /// <summary>Opens the connection if it is not open yet.</summary>
    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken = default)
    {
        if (_connection is null)
        {
            _connection = await dataSource.OpenConnectionAsync(cancellationToken);
        }
        return _connection;
    }

    /// <summary>
    /// Begins a transaction (READ COMMITTED). A transaction left open by an earlier attempt that failed is
    /// rolled back first, so a retried consume starts clean.
    /// </summary>
    public async Task<NpgsqlTransaction> BeginAsync(CancellationToken cancellationToken = default)
    {
        var connection = await OpenAsync(cancellationToken);
        if (Transaction is not null)
        {
            await RollbackAsync();
        }
        Transaction = await connection.BeginTransactionAsync(cancellationToken);
        return Transaction;
    }

    public async Task CommitAsync(CancellationToken cancellationToken = default)
    {
        var transaction = Transaction ?? throw new InvalidOperationException("The PostgresSession has no open transaction.");
        var written = await FlushOutboxAsync(cancellationToken);
        Transaction = null;
        try
        {
            await transaction.CommitAsync(cancellationToken);
        }
        finally
        {
            await transaction.DisposeAsync();
        }
        if (written.Length > 0)
        {
            outboxSignal?.Notify();
            if (_commitObservers.Length > 0)
            {
                var types = written.Select(r => (IReadOnlyList<string>)r.MessageType.Split(';', StringSplitOptions.RemoveEmptyEntries)).ToArray();
                foreach (var observer in _commitObservers)
                {
                    observer.Committed(types);
                }
            }
        }
    }

    /// <summary>Queues an outbox row; it is inserted in this transaction just before it commits.</summary>
    internal void AddOutboxRow(OutboxRow row)
    {
        lock (_pendingOutbox)
        {
            _pendingOutbox.Add(row);
        }
    }

    private async Task<OutboxRow[]> FlushOutboxAsync(CancellationToken cancellationToken)
    {
        OutboxRow[] rows;
        lock (_pendingOutbox)
        {
            rows = [.. _pendingOutbox];
            _pendingOutbox.Clear();
        }
        if (rows.Length == 0)
        {
            return rows;
        }
        await using var batch = CreateBatch();
        foreach (var row in rows)
        {
            batch.BatchCommands.Add(row.ToInsertCommand(outboxOptions?.Value.Owner ?? PostgresOutboxOptions.DefaultOwner));
        }
        // Delivered to LISTENers when (and only if) the transaction commits; identical ones are merged. The payload names
        // the rows' owner and this process, so only the other relays of that owner wake (see OutboxSignal.Wakes).
        var owner = outboxOptions?.Value.Owner ?? PostgresOutboxOptions.DefaultOwner;
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_notify($1, $2)")
        {
            Parameters = { new NpgsqlParameter { Value = OutboxSignal.Channel }, new NpgsqlParameter { Value = outboxSignal?.PayloadFor(owner) ?? owner } },
        });
        await batch.ExecuteNonQueryAsync(cancellationToken);
        return rows;
    }

    /// <summary>Rolls back the open transaction, if any; never throws (a broken connection is discarded).</summary>
    public async Task RollbackAsync()
    {
        var transaction = Transaction;
        Transaction = null;
        lock (_pendingOutbox)
        {
            _pendingOutbox.Clear();
        }
        if (transaction is null)
        {
            return;
        }
        try
        {
            await transaction.RollbackAsync(CancellationToken.None);
            await transaction.DisposeAsync();
        }
        catch (Exception) when (_connection is not null)
        {
            // The connection is broken (that is usually why we are rolling back): drop it so the next
            // BeginAsync opens a fresh one; PostgreSQL rolls back the transaction of a closed connection.
            await _connection.DisposeAsync();
            _connection = null;
        }
    }

    /// <summary>A command on this session's connection, enlisted in its transaction (if one is open).</summary>
    public NpgsqlCommand CreateCommand(string sql) => new(sql, Connection, Transaction);

    /// <summary>A batch on this session's connection, enlisted in its transaction (if one is open).</summary>
    public NpgsqlBatch CreateBatch() => new(Connection) { Transaction = Transaction };

    public async ValueTask DisposeAsync()
    {
        await RollbackAsync();
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }
    }
}
