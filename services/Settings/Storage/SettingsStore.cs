using System.Text.Json;
using BuildFarm.Contracts;
using BuildFarm.Persistence;
using Npgsql;
using NpgsqlTypes;

namespace BuildFarm.Settings.Storage;

/// <summary>The SQL of the settings record (<c>farm_settings</c>, one row) and its audit trail (<c>farm_settings_history</c>).</summary>
public sealed class SettingsStore(NpgsqlDataSource dataSource)
{
    private const string Columns = "settings, revision, updated_by, updated_at";

    /// <summary>Inserts the default settings at revision 1 unless the record exists.</summary>
    public async Task SeedAsync(PostgresSession session, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = session.CreateCommand(
            "INSERT INTO farm_settings (id, settings, revision, updated_by, updated_at) VALUES (1, $1, 1, NULL, $2) ON CONFLICT (id) DO NOTHING");
        command.Parameters.Add(Json(SettingsJson.Serialize(new FarmSettings())));
        command.Parameters.Add(new NpgsqlParameter { Value = now });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The record as committed now.</summary>
    public async Task<StoredSettings> GetAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {Columns} FROM farm_settings WHERE id = 1");
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>The record, locked until the session's transaction ends (writers queue on it).</summary>
    public async Task<StoredSettings> LockAsync(PostgresSession session, CancellationToken cancellationToken)
    {
        await using var command = session.CreateCommand($"SELECT {Columns} FROM farm_settings WHERE id = 1 FOR UPDATE");
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>Stores <paramref name="next"/> and appends its audit entry, in the session's transaction.</summary>
    public async Task UpdateAsync(PostgresSession session, StoredSettings previous, StoredSettings next, CancellationToken cancellationToken)
    {
        await using var batch = session.CreateBatch();
        var update = new NpgsqlBatchCommand("UPDATE farm_settings SET settings = $1, revision = $2, updated_by = $3, updated_at = $4 WHERE id = 1");
        update.Parameters.Add(Json(SettingsJson.Serialize(next.Settings)));
        update.Parameters.Add(new NpgsqlParameter { Value = next.Revision });
        update.Parameters.Add(new NpgsqlParameter { Value = (object?)next.UpdatedBy ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        update.Parameters.Add(new NpgsqlParameter { Value = next.UpdatedAt });
        batch.BatchCommands.Add(update);
        var audit = new NpgsqlBatchCommand(
            "INSERT INTO farm_settings_history (action, revision, changed_by, changed_at, changed_fields, old_value, new_value) VALUES ('update', $1, $2, $3, $4, $5, $6)");
        audit.Parameters.Add(new NpgsqlParameter { Value = next.Revision });
        audit.Parameters.Add(new NpgsqlParameter { Value = next.UpdatedBy ?? "unknown" });
        audit.Parameters.Add(new NpgsqlParameter { Value = next.UpdatedAt });
        audit.Parameters.Add(new NpgsqlParameter { Value = SettingsJson.ChangedFields(previous.Settings, next.Settings).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        audit.Parameters.Add(Json(SettingsJson.Serialize(previous.Settings)));
        audit.Parameters.Add(Json(SettingsJson.Serialize(next.Settings)));
        batch.BatchCommands.Add(audit);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Appends an admin action (<c>release</c> or <c>clear</c>) to the audit trail, at the current revision.</summary>
    public async Task RecordActionAsync(string action, string who, DateTimeOffset at, object details, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "INSERT INTO farm_settings_history (action, revision, changed_by, changed_at, details) " +
            "SELECT $1, revision, $2, $3, $4 FROM farm_settings WHERE id = 1");
        command.Parameters.Add(new NpgsqlParameter { Value = action });
        command.Parameters.Add(new NpgsqlParameter { Value = who });
        command.Parameters.Add(new NpgsqlParameter { Value = at });
        command.Parameters.Add(Json(SettingsJson.Serialize(details)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Up to <paramref name="limit"/> entries older than the entry <paramref name="before"/> (all when null), newest first.</summary>
    public async Task<SettingsHistoryPage> ListHistoryAsync(int limit, long? before, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, action, revision, changed_by, changed_at, changed_fields, old_value, new_value, details " +
            "FROM farm_settings_history WHERE ($1::bigint IS NULL OR id < $1) ORDER BY id DESC LIMIT $2");
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)before ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = limit + 1 });
        var items = new List<SettingsHistoryEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new SettingsHistoryEntry(
                reader.GetInt64(0),
                reader.GetString(1),
                reader.GetInt64(2),
                reader.GetString(3),
                reader.GetFieldValue<DateTimeOffset>(4),
                reader.GetFieldValue<string[]>(5),
                reader.IsDBNull(6) ? null : SettingsJson.Deserialize(reader.GetString(6)),
                reader.IsDBNull(7) ? null : SettingsJson.Deserialize(reader.GetString(7)),
                reader.IsDBNull(8) ? null : JsonSerializer.Deserialize<JsonElement>(reader.GetString(8))));
        }
        var more = items.Count > limit;
        if (more)
        {
            items.RemoveAt(items.Count - 1);
        }
        return new SettingsHistoryPage(items, more ? items[^1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
    }

    private static async Task<StoredSettings> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException("The farm_settings record is missing: the Settings service inserts it at start.");
        }
        return new StoredSettings(
            SettingsJson.Deserialize(reader.GetString(0)),
            reader.GetInt64(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.GetFieldValue<DateTimeOffset>(3));
    }

    private static NpgsqlParameter Json(string json) => new() { Value = json, NpgsqlDbType = NpgsqlDbType.Jsonb };
}
