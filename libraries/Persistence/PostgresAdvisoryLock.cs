using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace BuildFarm.Persistence;

/// <summary>
/// PostgreSQL advisory locks by name, with the farm's one key scheme: a lock's name (say <c>buildfarm.dispatch</c>) is
/// the bigint key <see cref="KeyOf"/> (the first 8 bytes of the SHA-256 of its UTF-8 name), used with the one-key
/// <c>pg_advisory_*</c> functions only. Two scopes:
/// <list type="bullet">
/// <item>session: held by the connection until the returned lock is disposed (or the connection ends, say because the
/// process died). <see cref="TryAcquireAsync(NpgsqlDataSource, string, CancellationToken)"/> and
/// <see cref="AcquireAsync(NpgsqlDataSource, string, CancellationToken)"/> open a connection of their own for it;
/// <see cref="AcquireAsync(NpgsqlConnection, string, CancellationToken)"/> takes it on the caller's.</item>
/// <item>transaction: held until the transaction commits or rolls back
/// (<see cref="AcquireForTransactionAsync"/>, <see cref="TryAcquireForTransactionAsync"/>).</item>
/// </list>
/// A session lock and a transaction lock of the same name exclude each other.
/// </summary>
public sealed class PostgresAdvisoryLock : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly bool _ownsConnection;
    private int _released;

    private PostgresAdvisoryLock(NpgsqlConnection connection, string name, bool ownsConnection)
    {
        _connection = connection;
        _ownsConnection = ownsConnection;
        Name = name;
        Key = KeyOf(name);
    }

    /// <summary>The lock's name.</summary>
    public string Name { get; }

    /// <summary>The lock's key, as pg_locks shows it (classid = high 32 bits, objid = low 32 bits, objsubid = 1).</summary>
    public long Key { get; }

    /// <summary>The advisory lock key of <paramref name="name"/>: the first 8 bytes of its UTF-8 SHA-256, big-endian.</summary>
    public static long KeyOf(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        return BinaryPrimitives.ReadInt64BigEndian(hash);
    }

    /// <summary>Takes the session lock <paramref name="name"/> on a connection of its own if it is free; null when another session holds it.</summary>
    public static async Task<PostgresAdvisoryLock?> TryAcquireAsync(NpgsqlDataSource dataSource, string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var key = KeyOf(name);
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            if (await ScalarAsync(connection, null, "SELECT pg_try_advisory_lock($1)", key, ct))
            {
                return new PostgresAdvisoryLock(connection, name, ownsConnection: true);
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

    /// <summary>Waits for the session lock <paramref name="name"/> on a connection of its own.</summary>
    public static async Task<PostgresAdvisoryLock> AcquireAsync(NpgsqlDataSource dataSource, string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var connection = await dataSource.OpenConnectionAsync(ct);
        try
        {
            return await AcquireAsync(connection, name, ownsConnection: true, ct);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits for the session lock <paramref name="name"/> on <paramref name="connection"/>, which stays open when the lock is released.</summary>
    public static Task<PostgresAdvisoryLock> AcquireAsync(NpgsqlConnection connection, string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return AcquireAsync(connection, name, ownsConnection: false, ct);
    }

    /// <summary>Waits for the lock <paramref name="name"/> until <paramref name="transaction"/> ends.</summary>
    public static async Task AcquireForTransactionAsync(NpgsqlTransaction transaction, string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = KeyOf(name) });
        await command.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Takes the lock <paramref name="name"/> until <paramref name="transaction"/> ends if it is free; false when another holds it.</summary>
    public static Task<bool> TryAcquireForTransactionAsync(NpgsqlTransaction transaction, string name, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return ScalarAsync(transaction.Connection!, transaction, "SELECT pg_try_advisory_xact_lock($1)", KeyOf(name), ct);
    }

    /// <summary>Releases the session lock (and closes its connection if it opened it). A broken connection released it already.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }
        try
        {
            await ScalarAsync(_connection, null, "SELECT pg_advisory_unlock($1)", Key, CancellationToken.None);
        }
        catch (NpgsqlException) when (_ownsConnection)
        {
            // the connection broke: PostgreSQL released the lock with it
        }
        finally
        {
            if (_ownsConnection)
            {
                await _connection.DisposeAsync();
            }
        }
    }

    private static async Task<PostgresAdvisoryLock> AcquireAsync(NpgsqlConnection connection, string name, bool ownsConnection, CancellationToken ct)
    {
        var key = KeyOf(name);
        await using var command = new NpgsqlCommand("SELECT pg_advisory_lock($1)", connection);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = key });
        await command.ExecuteNonQueryAsync(ct);
        return new PostgresAdvisoryLock(connection, name, ownsConnection);
    }

    private static async Task<bool> ScalarAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, long key, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = key });
        return (bool)(await command.ExecuteScalarAsync(ct))!;
    }
}
