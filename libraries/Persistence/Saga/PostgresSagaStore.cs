using System.Linq.Expressions;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using MassTransit;
using Npgsql;
using NpgsqlTypes;

namespace BuildFarm.Persistence.Saga;

/// <summary>The SQL for one saga type's table (one row per instance). Singleton per saga type.</summary>
public sealed partial class PostgresSagaStore<TSaga>
    where TSaga : class, ISagaVersion
{
    private readonly Func<TSaga, string?> _currentState;
    private readonly JsonSerializerOptions _json;
    private readonly string _select;
    private readonly string _selectForUpdate;
    private readonly string _insert;
    private readonly string _update;
    private readonly string _delete;
    private readonly IReadOnlyList<PostgresSagaColumn<TSaga>> _columns;

    public PostgresSagaStore(PostgresSagaRepositoryOptions<TSaga> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var table = ValidTableName(options.TableName);
        TableName = table;
        _json = options.JsonOptions;
        LockOnLoad = options.LockOnLoad;
        _currentState = CurrentStateGetter();
        _select = $"SELECT version, data FROM {table} WHERE correlation_id = $1";
        _selectForUpdate = _select + " FOR UPDATE";
        _columns = [.. options.Columns];
        // The typed columns follow the row's four parameters: $5, $6, …; the update's version check comes last.
        var names = string.Concat(_columns.Select(c => ", " + c.Name));
        var values = string.Concat(_columns.Select((_, i) => $", ${i + 5}"));
        var sets = string.Concat(_columns.Select((c, i) => $", {c.Name} = ${i + 5}"));
        _insert = $"""
            INSERT INTO {table} (correlation_id, current_state, version, data{names}, created_at, updated_at)
            VALUES ($1, $2, $3, $4{values}, now(), now())
            ON CONFLICT (correlation_id) DO NOTHING
            """;
        _update = $"""
            UPDATE {table} SET current_state = $2, version = $3, data = $4{sets}, updated_at = now()
            WHERE correlation_id = $1 AND version = ${_columns.Count + 5}
            """;
        _delete = $"DELETE FROM {table} WHERE correlation_id = $1 AND version = $2";
    }

    public string TableName { get; }

    public bool LockOnLoad { get; }

    /// <summary>
    /// The DDL the caller's migration must contain for a saga table (a helper; copy its output into the migration):
    /// <code>
    /// CREATE TABLE build_state (
    ///     correlation_id uuid        PRIMARY KEY,
    ///     current_state  text        NOT NULL,
    ///     version        integer     NOT NULL,
    ///     data           jsonb       NOT NULL,
    ///     created_at     timestamptz NOT NULL DEFAULT now(),
    ///     updated_at     timestamptz NOT NULL DEFAULT now()
    /// );
    /// CREATE INDEX build_state_current_state ON build_state (current_state);
    /// </code>
    /// </summary>
    public static string CreateTableSql(string tableName)
    {
        var table = ValidTableName(tableName);
        var indexName = table.Replace('.', '_') + "_current_state";
        return $"""
            CREATE TABLE {table} (
                correlation_id uuid        PRIMARY KEY,
                current_state  text        NOT NULL,
                version        integer     NOT NULL,
                data           jsonb       NOT NULL,
                created_at     timestamptz NOT NULL DEFAULT now(),
                updated_at     timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX {indexName} ON {table} (current_state);
            """;
    }

    /// <summary>The instance, or null; with <paramref name="lockRow"/> the row stays locked until the transaction ends.</summary>
    public async Task<TSaga?> LoadAsync(PostgresSession session, Guid correlationId, bool lockRow, CancellationToken cancellationToken)
    {
        await using var command = session.CreateCommand(lockRow ? _selectForUpdate : _select);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Uuid, Value = correlationId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        var version = reader.GetInt32(0);
        var instance = JsonSerializer.Deserialize<TSaga>(reader.GetString(1), _json)
            ?? throw new SagaException("The stored saga data is null", typeof(TSaga), correlationId);
        instance.CorrelationId = correlationId;
        instance.Version = version;
        return instance;
    }

    /// <summary>Inserts a new instance at version 1; false when a row with its id exists already (nothing is changed).</summary>
    public async Task<bool> InsertAsync(PostgresSession session, TSaga instance, CancellationToken cancellationToken)
    {
        instance.Version = 1;
        await using var command = session.CreateCommand(_insert);
        AddRowParameters(command, instance);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Writes the instance if its row is still at the version it was loaded with; then bumps the version.</summary>
    public async Task UpdateAsync(PostgresSession session, TSaga instance, CancellationToken cancellationToken)
    {
        var loaded = instance.Version;
        instance.Version = loaded + 1;
        await using var command = session.CreateCommand(_update);
        AddRowParameters(command, instance);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = loaded });
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            instance.Version = loaded;
            throw new ConcurrencyException($"Saga update failed: {TableName} row is no longer at version {loaded}", typeof(TSaga), instance.CorrelationId);
        }
    }

    public async Task DeleteAsync(PostgresSession session, TSaga instance, CancellationToken cancellationToken)
    {
        await using var command = session.CreateCommand(_delete);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Uuid, Value = instance.CorrelationId });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = instance.Version });
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 0)
        {
            throw new ConcurrencyException($"Saga delete failed: {TableName} row is no longer at version {instance.Version}", typeof(TSaga), instance.CorrelationId);
        }
    }

    /// <summary>Instances in a state, oldest update first (uses the current_state index of <see cref="CreateTableSql"/>).</summary>
    public async Task<IReadOnlyList<TSaga>> ListByStateAsync(PostgresSession session, string currentState, int limit, CancellationToken cancellationToken)
    {
        await using var command = session.CreateCommand(
            $"SELECT correlation_id, version, data FROM {TableName} WHERE current_state = $1 ORDER BY updated_at LIMIT $2");
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = currentState });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = limit });
        var instances = new List<TSaga>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var instance = JsonSerializer.Deserialize<TSaga>(reader.GetString(2), _json)!;
            instance.CorrelationId = reader.GetGuid(0);
            instance.Version = reader.GetInt32(1);
            instances.Add(instance);
        }
        return instances;
    }

    private void AddRowParameters(NpgsqlCommand command, TSaga instance)
    {
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Uuid, Value = instance.CorrelationId });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text, Value = _currentState(instance) ?? "" });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = instance.Version });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Jsonb, Value = JsonSerializer.Serialize(instance, _json) });
        foreach (var column in _columns)
        {
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = column.Type, Value = column.Value(instance) });
        }
    }

    private static Func<TSaga, string?> CurrentStateGetter()
    {
        var property = typeof(TSaga).GetProperty("CurrentState", BindingFlags.Public | BindingFlags.Instance);
        if (property is null || property.PropertyType != typeof(string) || property.GetMethod is null)
        {
            throw new ConfigurationException(
                $"{typeof(TSaga).Name} needs a public string CurrentState property (InstanceState(x => x.CurrentState)) to be stored by the Postgres saga repository.");
        }
        var instance = Expression.Parameter(typeof(TSaga), "instance");
        return Expression.Lambda<Func<TSaga, string?>>(Expression.Property(instance, property), instance).Compile();
    }

    private static string ValidTableName(string tableName) =>
        !string.IsNullOrEmpty(tableName) && TableNamePattern().IsMatch(tableName)
            ? tableName
            : throw new ArgumentException($"'{tableName}' is not a plain PostgreSQL table name (letters, digits, _ and one optional schema dot).", nameof(tableName));

    [GeneratedRegex("^[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)?$")]
    private static partial Regex TableNamePattern();
}
