using BuildFarm.Testing;
using Npgsql;

namespace BuildFarm.Persistence.Tests;

public sealed class Holding_an_advisory_lock : IAsyncLifetime
{
    private const string Name = "buildfarm.tests.lock";
    private string _postgres = "";
    private NpgsqlDataSource _database = null!;

    public async Task InitializeAsync()
    {
        _postgres = await TestServers.CreateDatabaseAsync("advisory");
        _database = NpgsqlDataSource.Create(_postgres);
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        await TestServers.DropDatabaseAsync(_postgres);
    }

    [Fact]
    public async Task The_key_of_a_name_is_the_start_of_its_sha256_as_postgresql_computes_it()
    {
        await using var command = _database.CreateCommand("SELECT ('x' || left(encode(sha256(convert_to($1, 'UTF8')), 'hex'), 16))::bit(64)::bigint");
        command.Parameters.AddWithValue("buildfarm.dispatch");

        Assert.Equal((long)(await command.ExecuteScalarAsync())!, PostgresAdvisoryLock.KeyOf("buildfarm.dispatch"));
        Assert.NotEqual(PostgresAdvisoryLock.KeyOf("buildfarm.dispatch"), PostgresAdvisoryLock.KeyOf("buildfarm.deadlines"));
    }

    [Fact]
    public async Task A_session_lock_keeps_other_sessions_out_until_released()
    {
        var held = await PostgresAdvisoryLock.TryAcquireAsync(_database, Name, CancellationToken.None);
        Assert.NotNull(held);
        Assert.Null(await PostgresAdvisoryLock.TryAcquireAsync(_database, Name, CancellationToken.None));
        Assert.Equal(1, await HoldersAsync(PostgresAdvisoryLock.KeyOf(Name)));

        await held.DisposeAsync();

        await using var again = await PostgresAdvisoryLock.TryAcquireAsync(_database, Name, CancellationToken.None);
        Assert.NotNull(again);
    }

    [Fact]
    public async Task Waiting_for_a_session_lock_ends_when_the_holder_releases_it()
    {
        var held = await PostgresAdvisoryLock.AcquireAsync(_database, Name, CancellationToken.None);
        var waiting = PostgresAdvisoryLock.AcquireAsync(_database, Name, CancellationToken.None);
        await Eventually.HoldsAsync(async () => await WaitersAsync(PostgresAdvisoryLock.KeyOf(Name)) == 1, "the second session waits for the lock");
        Assert.False(waiting.IsCompleted);

        await held.DisposeAsync();

        await using var next = await waiting;
        Assert.Equal(Name, next.Name);
    }

    [Fact]
    public async Task A_lock_taken_on_the_callers_connection_leaves_the_connection_open()
    {
        await using var connection = await _database.OpenConnectionAsync();
        await using (await PostgresAdvisoryLock.AcquireAsync(connection, Name, CancellationToken.None))
        {
            Assert.Null(await PostgresAdvisoryLock.TryAcquireAsync(_database, Name, CancellationToken.None));
        }

        Assert.Equal(System.Data.ConnectionState.Open, connection.State);
        await using var other = await PostgresAdvisoryLock.TryAcquireAsync(_database, Name, CancellationToken.None);
        Assert.NotNull(other);
    }

    [Fact]
    public async Task A_transaction_lock_lasts_until_the_transaction_ends_and_excludes_the_session_lock()
    {
        await using var connection = await _database.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await PostgresAdvisoryLock.AcquireForTransactionAsync(transaction, Name, CancellationToken.None);

        await using (var otherConnection = await _database.OpenConnectionAsync())
        await using (var otherTransaction = await otherConnection.BeginTransactionAsync())
        {
            Assert.False(await PostgresAdvisoryLock.TryAcquireForTransactionAsync(otherTransaction, Name, CancellationToken.None));
        }
        Assert.Null(await PostgresAdvisoryLock.TryAcquireAsync(_database, Name, CancellationToken.None));

        await transaction.CommitAsync();

        await using var session = await PostgresAdvisoryLock.TryAcquireAsync(_database, Name, CancellationToken.None);
        Assert.NotNull(session);
    }

    /// <summary>Sessions holding the one-key advisory lock <paramref name="key"/>.</summary>
    private Task<long> HoldersAsync(long key) => CountLocksAsync(key, granted: true);

    private Task<long> WaitersAsync(long key) => CountLocksAsync(key, granted: false);

    private async Task<long> CountLocksAsync(long key, bool granted)
    {
        await using var command = _database.CreateCommand("""
            SELECT count(*) FROM pg_locks
             WHERE locktype = 'advisory' AND objsubid = 1 AND granted = $2
               AND ((classid::bigint << 32) | objid::bigint) = $1
            """);
        command.Parameters.AddWithValue(key);
        command.Parameters.AddWithValue(granted);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
