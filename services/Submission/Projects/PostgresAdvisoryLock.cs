using Npgsql;

namespace BuildFarm.Submission.Projects;

/// <summary>
/// A PostgreSQL session advisory lock held on a connection of its own until disposed, so that only one Submission
/// instance at a time runs a pass (or checks a project). If the process dies, PostgreSQL drops the lock with the connection.
/// </summary>
internal sealed class PostgresAdvisoryLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly string _unlockSql;
    private readonly object[] _key;

    private PostgresAdvisoryLock(NpgsqlConnection connection, string unlockSql, object[] key)
    {
        _connection = connection;
        _unlockSql = unlockSql;
        _key = key;
    }

    /// <summary>Takes the lock <paramref name="key"/> if it is free; null when another session holds it.</summary>
    public static async Task<PostgresAdvisoryLock?> TryAcquireAsync(NpgsqlDataSource dataSource, long key, CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
            command.Parameters.AddWithValue(key);
            if ((bool)(await command.ExecuteScalarAsync(ct))!)
            {
                return new PostgresAdvisoryLock(connection, "SELECT pg_advisory_unlock($1)", [key]);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    /// <summary>Waits for the lock on <paramref name="name"/> within the lock space <paramref name="space"/>.</summary>
    public static async Task<PostgresAdvisoryLock> AcquireAsync(NpgsqlDataSource dataSource, int space, string name, CancellationToken ct)
    {
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_lock($1, hashtext($2))", connection);
            command.Parameters.AddWithValue(space);
            command.Parameters.AddWithValue(name);
            await command.ExecuteNonQueryAsync(ct);
            return new PostgresAdvisoryLock(connection, "SELECT pg_advisory_unlock($1, hashtext($2))", [space, name]);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var command = new NpgsqlCommand(_unlockSql, _connection);
            foreach (var value in _key)
            {
                command.Parameters.AddWithValue(value);
            }
            await command.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (NpgsqlException)
        {
            // the connection broke: PostgreSQL released the lock with it
        }
        finally
        {
            await _connection.DisposeAsync();
        }
    }
}
