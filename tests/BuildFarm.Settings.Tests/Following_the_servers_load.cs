using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Settings.Apis;
using Npgsql;

namespace BuildFarm.Settings.Tests;

/// <summary>
/// concurrencyMode "auto": the limit in Redis follows the build servers' load as the Scheduler's read model
/// (build_server_view) shows it, within [minConcurrentBuilds, maxConcurrentBuilds]. The Scheduler's tables come from its
/// own migrations; the servers are written into them as its heartbeats would be.
/// </summary>
public sealed class Following_the_servers_load(SettingsFixture app) : IClassFixture<SettingsFixture>, IAsyncLifetime
{
    private NpgsqlDataSource _database = null!;

    public async Task InitializeAsync()
    {
        _database = NpgsqlDataSource.Create(app.Postgres);
        foreach (var file in Directory.GetFiles(Path.Combine(Repository.Root, "services", "Scheduler", "Migrations"), "*.sql").Order(StringComparer.Ordinal))
        {
            await using var command = _database.CreateCommand(await File.ReadAllTextAsync(file));
            await command.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task Sets_the_free_capacity_of_healthy_servers_plus_what_runs_and_announces_each_change()
    {
        // Threshold 85: a is healthy (4 slots, 1 running); b runs 2 but its CPU is at 95; c is in maintenance; d went
        // silent two minutes ago. The limit is a's 3 free slots + the 1 and 2 running = 6.
        await ServerAsync("a", capacity: 4, running: 1, cpu: 10);
        await ServerAsync("b", capacity: 6, running: 2, cpu: 95);
        await ServerAsync("c", capacity: 8, running: 0, cpu: 5, maintenance: true);
        await ServerAsync("d", capacity: 10, running: 0, cpu: 5, lastSeen: TimeSpan.FromMinutes(2));
        await PatchAsync("""{"maxConcurrentBuilds": 100, "minConcurrentBuilds": 2, "concurrencyMode": "auto"}""");

        await Eventually.HoldsAsync(async () => await app.SemaphoreAdmin.GetLimitAsync() == 6, "the limit follows the servers");
        var first = await app.Recorder.WaitForAsync<ConcurrencyLimitChanged>(m => m.NewLimit == 6);
        Assert.Equal(new FarmSettings().MaxConcurrentBuilds, first.OldLimit);
        using var viewer = app.Client(FarmRoles.Viewer);
        var status = await viewer.GetFromJsonAsync<BuildStatusResponse>("/api/settings/build_status");
        Assert.Equal((6, "auto", 2, 100), (status!.MaxConcurrent, status.ConcurrencyMode, status.MinConcurrentBuilds, status.MaxConcurrentBuilds));

        // b cools down: its 4 free slots count too.
        await ExecuteAsync("UPDATE build_server SET cpu_percent = 20 WHERE server_id = 'b'");
        await Eventually.HoldsAsync(async () => await app.SemaphoreAdmin.GetLimitAsync() == 10, "the limit grows as a server recovers");
        var second = await app.Recorder.WaitForAsync<ConcurrencyLimitChanged>(m => m.NewLimit == 10);
        Assert.Equal(6, second.OldLimit);

        // Within the bounds: never above maxConcurrentBuilds, never below minConcurrentBuilds.
        await PatchAsync("""{"maxConcurrentBuilds": 8}""");
        await Eventually.HoldsAsync(async () => await app.SemaphoreAdmin.GetLimitAsync() == 8, "the upper bound holds");
        await ExecuteAsync("UPDATE build_server SET maintenance = true");
        await Eventually.HoldsAsync(async () => await app.SemaphoreAdmin.GetLimitAsync() == 3, "only what runs counts in maintenance");
        await ExecuteAsync("DELETE FROM build_server");
        await Eventually.HoldsAsync(async () => await app.SemaphoreAdmin.GetLimitAsync() == 2, "the lower bound holds with no server");

        // Back to fixed: maxConcurrentBuilds, announced by the write itself.
        var revision = await PatchAsync("""{"concurrencyMode": "fixed"}""");
        Assert.Equal(8, await app.SemaphoreAdmin.GetLimitAsync());
        var back = await app.Recorder.WaitForAsync<ConcurrencyLimitChanged>(m => m.Revision == revision);
        Assert.Equal((2, 8), (back.OldLimit, back.NewLimit));
        await ServerAsync("e", capacity: 50, running: 0, cpu: 5);
        await Task.Delay(SettingsFixture.LimitCheckInterval * 3);
        Assert.Equal(8, await app.SemaphoreAdmin.GetLimitAsync());
    }

    private async Task<long> PatchAsync(string patch)
    {
        using var admin = app.Client(FarmRoles.Admin);
        using var response = await admin.PatchAsync("/api/settings", Json.Body(patch, Json.MergePatch));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return long.Parse(response.Headers.ETag!.Tag.Trim('"'), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A build server as the Scheduler records its heartbeats (every 5 s; <paramref name="lastSeen"/> ago).</summary>
    private async Task ServerAsync(string id, int capacity, int running, float cpu, bool maintenance = false, TimeSpan lastSeen = default)
    {
        await using var command = _database.CreateCommand("""
            INSERT INTO build_server (server_id, host, architectures, toolchains, max_concurrent, active_builds, cpu_percent,
                                      memory_percent, disk_percent, maintenance, version, heartbeat_interval, first_seen, last_seen, online)
            VALUES ($1, $1, '{x86_64}', '{rpmbuild}', $2, $3, $4, 10, 10, $5, 'test', interval '5 seconds', now(), now() - $6, true)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = capacity });
        command.Parameters.Add(new NpgsqlParameter { Value = running });
        command.Parameters.Add(new NpgsqlParameter { Value = cpu });
        command.Parameters.Add(new NpgsqlParameter { Value = maintenance });
        command.Parameters.Add(new NpgsqlParameter { Value = lastSeen });
        await command.ExecuteNonQueryAsync();
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var command = _database.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync() => await _database.DisposeAsync();
}
