using System.Text.Json;
using BuildFarm.Domain.Artifacts;
using BuildFarm.Persistence;
using BuildFarm.ServiceDefaults;
using BuildFarm.Submission.Cleanup;
using BuildFarm.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace BuildFarm.Submission.Tests;

/// <summary>The cleanup on a database of each test's own, with the Submission migrations and the Scheduler's build table.</summary>
public sealed class Cleaning_up_old_builds : IAsyncLifetime
{
    private readonly TempDirectory _store = new("bfsub-clean");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));
    private readonly FarmSettingsCache _settings = new();
    private ArtifactStore _artifacts = null!;
    private string _postgres = "";
    private NpgsqlDataSource _database = null!;

    public async Task InitializeAsync()
    {
        _artifacts = new ArtifactStore(_store.Path);
        _postgres = await TestServers.CreateDatabaseAsync("subclean");
        _database = NpgsqlDataSource.Create(_postgres);
        await FarmTables.CreateSchedulerTablesAsync(_database);
        await PostgresMigrator.ApplyAsync(_database, typeof(BuildCleaner).Assembly, CancellationToken.None);
    }

    [Fact]
    public async Task Removes_the_logs_and_unshared_artifacts_of_old_builds_and_keeps_the_rest()
    {
        var onlyOld = await StoreAsync("only in an old build");
        var withYoung = await StoreAsync("also in a young build");
        var twoOld = await StoreAsync("in two old builds");
        var oldCompleted = await AddBuildAsync("Completed", TimeSpan.FromDays(40), onlyOld, withYoung);
        var oldFailed = await AddBuildAsync("Failed", TimeSpan.FromDays(35), twoOld);
        var oldTimedOut = await AddBuildAsync("TimedOut", TimeSpan.FromDays(31), twoOld);
        var oldCancelled = await AddBuildAsync("Cancelled", TimeSpan.FromDays(60));
        var young = await AddBuildAsync("Completed", TimeSpan.FromDays(5), withYoung);
        var running = await AddBuildAsync("Building", null);

        var pass = await Cleaner(batchSize: 2).RunAsync(CancellationToken.None);

        // (How many artifacts a batch kept depends on which builds share a batch, so that count is not checked here.)
        Assert.Equal((true, 4, 8L, 2), (pass.Ran, pass.Builds, pass.LogBatches, pass.ArtifactFiles));
        foreach (var cleaned in (Guid[])[oldCompleted, oldFailed, oldTimedOut, oldCancelled])
        {
            Assert.Equal(0, await LogBatchesAsync(cleaned));
            Assert.Equal(_time.GetUtcNow(), await new BuildCleanupStore(_database).CleanedAtAsync(cleaned, CancellationToken.None));
        }
        Assert.Equal((2, 2), (await LogBatchesAsync(young), await LogBatchesAsync(running)));
        Assert.Null(await new BuildCleanupStore(_database).CleanedAtAsync(young, CancellationToken.None));
        Assert.Null(await new BuildCleanupStore(_database).CleanedAtAsync(running, CancellationToken.None));
        Assert.Equal((false, true, false), (_artifacts.Contains(onlyOld), _artifacts.Contains(withYoung), _artifacts.Contains(twoOld)));
        Assert.Equal(6, await ScalarAsync<long>("SELECT count(*) FROM build_state"));
        Assert.Equal((2L, 1), (await ScalarAsync<long>("SELECT logs_deleted FROM build_cleanup WHERE build_id = $1", oldCompleted),
            await ScalarAsync<int>("SELECT artifacts_deleted FROM build_cleanup WHERE build_id = $1", oldCompleted)));
    }

    [Fact]
    public async Task Removes_shared_content_once_the_last_build_using_it_is_cleaned()
    {
        var shared = await StoreAsync("shared");
        var old = await AddBuildAsync("Completed", TimeSpan.FromDays(40), shared);
        var young = await AddBuildAsync("Completed", TimeSpan.FromDays(5), shared);
        var first = await Cleaner().RunAsync(CancellationToken.None);
        Assert.True(_artifacts.Contains(shared));

        _time.Advance(TimeSpan.FromDays(30));
        var second = await Cleaner().RunAsync(CancellationToken.None);

        Assert.Equal((1, 0, 1), (first.Builds, first.ArtifactFiles, first.SharedArtifacts));
        Assert.Equal((1, 1, 0), (second.Builds, second.ArtifactFiles, second.SharedArtifacts));
        Assert.False(_artifacts.Contains(shared));
        Assert.NotNull(await new BuildCleanupStore(_database).CleanedAtAsync(old, CancellationToken.None));
        Assert.NotNull(await new BuildCleanupStore(_database).CleanedAtAsync(young, CancellationToken.None));
    }

    [Fact]
    public async Task Does_nothing_while_switched_off_or_another_instance_is_cleaning()
    {
        var build = await AddBuildAsync("Completed", TimeSpan.FromDays(40));
        _settings.Apply(new FarmSettings { CleanupBuildsAfterDays = 0 }, 1);
        var off = await Cleaner().RunAsync(CancellationToken.None);
        _settings.Apply(new FarmSettings { CleanupBuildsAfterDays = 30 }, 2);

        BuildCleanupPass busy;
        await using (var otherInstance = await _database.OpenConnectionAsync())
        {
            await using var hold = new NpgsqlCommand($"SELECT pg_advisory_lock({PostgresAdvisoryLock.KeyOf(BuildCleaner.LockName)})", otherInstance);
            await hold.ExecuteNonQueryAsync();
            busy = await Cleaner().RunAsync(CancellationToken.None);
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({PostgresAdvisoryLock.KeyOf(BuildCleaner.LockName)})", otherInstance);
            await release.ExecuteNonQueryAsync();
        }

        Assert.Equal((false, false), (off.Ran, busy.Ran));
        Assert.Equal(2, await LogBatchesAsync(build));
        Assert.Equal(1, (await Cleaner().RunAsync(CancellationToken.None)).Builds);
    }

    private BuildCleaner Cleaner(int batchSize = 200) => new(
        _database, _artifacts, _settings, _time, Options.Create(new BuildCleanupOptions { BatchSize = batchSize }), NullLogger<BuildCleaner>.Instance);

    private async Task<string> StoreAsync(string content)
    {
        var file = Path.Combine(_store.Path, $"{Guid.NewGuid():N}.rpm");
        await File.WriteAllTextAsync(file, content);
        var artifact = await _artifacts.AddAsync(file, "rpm");
        File.Delete(file);
        return artifact.Sha256;
    }

    /// <summary>A build as the Scheduler's saga row keeps it, finished <paramref name="finishedAgo"/> ago, with two log batches.</summary>
    private async Task<Guid> AddBuildAsync(string state, TimeSpan? finishedAgo, params string[] artifacts)
    {
        var id = await SchedulerBuilds.AddAsync(_database, state, b =>
        {
            b.FinishedAt = _time.GetUtcNow() - finishedAgo;
            b.Artifacts = [.. artifacts.Select(sha => new Artifact($"{sha[..8]}.rpm", 10, sha, "rpm"))];
        });
        await using var batch = _database.CreateBatch();
        for (var sequence = 0; sequence < 2; sequence++)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at) VALUES ($1, 1, 'stdout', $2, 0, 'line', now())
                """)
            {
                Parameters = { new() { Value = id }, new() { Value = (long)sequence } },
            });
        }
        await batch.ExecuteNonQueryAsync();
        return id;
    }

    private Task<long> LogBatchesAsync(Guid buildId) => ScalarAsync<long>("SELECT count(*) FROM build_log WHERE build_id = $1", buildId);

    private async Task<T> ScalarAsync<T>(string sql, params object[] values)
    {
        await using var command = _database.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.AddWithValue(value);
        }
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async Task DisposeAsync()
    {
        await _database.DisposeAsync();
        await TestServers.DropDatabaseAsync(_postgres);
        _store.Dispose();
    }
}
