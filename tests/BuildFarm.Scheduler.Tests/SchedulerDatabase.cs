using BuildFarm.Contracts;
using BuildFarm.Domain;
using BuildFarm.Persistence;
using BuildFarm.Scheduler.Dispatch;
using BuildFarm.Scheduler.Status;
using BuildFarm.ServiceDefaults;
using BuildFarm.Testing;
using MassTransit;
using MassTransit.Testing;
using BuildFarm.Persistence.Outbox;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace BuildFarm.Scheduler.Tests;

/// <summary>The Scheduler's tables in a database of their own, and a <see cref="Dispatcher"/> on them at a fixed time.</summary>
public sealed class SchedulerDatabase : IAsyncDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);
    public static readonly TimeSpan Aging = TimeSpan.FromMinutes(15);

    private readonly string database;
    private readonly NpgsqlDataSource dataSource;
    private readonly ServiceProvider provider;

    private SchedulerDatabase(string database, NpgsqlDataSource dataSource, ServiceProvider provider)
    {
        this.database = database;
        this.dataSource = dataSource;
        this.provider = provider;
    }

    public Dispatcher Dispatcher => provider.GetRequiredService<Dispatcher>();

    public DispatchSignal Signal => provider.GetRequiredService<DispatchSignal>();

    public ITestHarness Harness => provider.GetRequiredService<ITestHarness>();

    public FarmSettingsCache Settings => provider.GetRequiredService<FarmSettingsCache>();

    /// <summary>A new database with the Scheduler's migrations; <paramref name="consumers"/> are started on the test harness.</summary>
    public StatusReader Status => provider.GetRequiredService<StatusReader>();

    public FakeTimeProvider Clock => provider.GetRequiredService<FakeTimeProvider>();

    public static async Task<SchedulerDatabase> CreateAsync(int limit, Action<IBusRegistrationConfigurator>? consumers = null,
        Func<FarmSettings, FarmSettings>? settings = null, Action<SchedulerOptions>? options = null)
    {
        var database = await TestServers.CreateDatabaseAsync("queue");
        var dataSource = NpgsqlDataSource.Create(database);
        await PostgresMigrator.ApplyAsync(dataSource, typeof(PostgresSession).Assembly, CancellationToken.None);
        await PostgresMigrator.ApplyAsync(dataSource, typeof(Dispatcher).Assembly, CancellationToken.None);
        var cache = new FarmSettingsCache();
        cache.Apply((settings ?? (x => x))(new FarmSettings { MaxConcurrentBuilds = limit }), 1);
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(dataSource)
            .AddSingleton(cache)
            .AddSingleton(new FakeTimeProvider(Now))
            .AddSingleton<TimeProvider>(sp => sp.GetRequiredService<FakeTimeProvider>())
            .AddSingleton<StatusReader>()
            .AddSingleton<DispatchSignal>()
            .AddSingleton<Dispatcher>()
            .AddSingleton(Data.BuildStateTable.CreateStore());
        services.AddOptions<SchedulerOptions>().Configure(o =>
        {
            o.AgingStep = Aging;
            options?.Invoke(o);
        });
        services.AddMassTransitTestHarness(x => consumers?.Invoke(x));
        services.AddPostgresOutboxServices(o => o.DeliveryEnabled = false);
        // The outbox's relay and cleanup are not under test here: rows stay in the outbox.
        foreach (var relay in services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Namespace == typeof(PostgresOutbox).Namespace).ToList())
        {
            services.Remove(relay);
        }
        var created = new SchedulerDatabase(database, dataSource, services.BuildServiceProvider());
        if (consumers is not null)
        {
            await created.Harness.Start();
        }
        return created;
    }

    public Task AddServerAsync(string id, string architecture, string[] toolchains, int max, bool maintenance = false) => ExecuteAsync("""
        INSERT INTO build_server (server_id, host, architectures, toolchains, max_concurrent, active_builds, cpu_percent,
                                  memory_percent, disk_percent, maintenance, version, heartbeat_interval, first_seen, last_seen, online)
        VALUES ($1, 'host', $2, $3, $4, 0, 10, 10, 10, $5, 'test', interval '5 seconds', $6, $6, true)
        """, id, new[] { architecture }, toolchains, max, maintenance, Now);

    public async Task<Guid> AddBuildingAsync(string server, string who)
    {
        var id = Guid.NewGuid();
        await ExecuteAsync("""
            INSERT INTO build_state (correlation_id, current_state, version, data, attempt, server_id, priority, submitted_by,
                                     submitted_at, architecture, toolchain, repository, dispatched_at, updated_at)
            VALUES ($1, 'Building', 1, '{}', 1, $2, 'normal', $3, $4, 'x86_64', 'rpmbuild', 'https://example.org/r.git', $4, $4)
            """, id, server, who, Now.AddMinutes(-5));
        return id;
    }

    public Task AddQueuedAsync(IReadOnlyList<QueuedBuild> queue) => ExecuteAsync("""
        INSERT INTO build_state (correlation_id, current_state, version, data, attempt, priority, submitted_by, submitted_at,
                                 architecture, toolchain, requested_server_id, repository, retry_at)
        SELECT id, 'Queued', 1,
               -- the saga's own data (the dispatcher loads and rewrites it), as the saga repository would have written it
               jsonb_build_object('CurrentState', 'Queued', 'Attempt', attempt, 'Priority', priority, 'SubmittedBy', who,
                                  'SubmittedAt', at, 'QueuedAt', at, 'TargetArchitecture', arch, 'Toolchain', toolchain,
                                  'RequestedServerId', NULLIF(requested, ''), 'SourceRepository', repository,
                                  'Branch', 'main', 'CommitHash', 'HEAD', 'RetryAt', CASE WHEN has_retry THEN retry END),
               attempt, priority, who, at, arch, toolchain, NULLIF(requested, ''), repository,
               CASE WHEN has_retry THEN retry END
          FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[], $8::text[],
                      $9::timestamptz[], $10::boolean[], $11::text[])
               AS q(id, attempt, priority, who, at, arch, toolchain, requested, retry, has_retry, repository)
        """,
        queue.Select(b => b.BuildId).ToArray(), queue.Select(b => b.Attempt).ToArray(), queue.Select(b => b.Priority.ToName()).ToArray(),
        queue.Select(b => b.SubmittedBy).ToArray(), queue.Select(b => b.SubmittedAt).ToArray(), queue.Select(b => b.TargetArchitecture).ToArray(),
        queue.Select(b => b.Toolchain).ToArray(), queue.Select(b => b.RequestedServerId ?? "").ToArray(),
        queue.Select(b => b.RetryAt ?? Now).ToArray(), queue.Select(b => b.RetryAt is not null).ToArray(),
        queue.Select(b => b.SourceRepository).ToArray());

    /// <summary>What a pass that orders the whole queue places: (build, server) in placing order.</summary>
    public async Task<List<(Guid, string)>> PlaceTheWholeQueueAsync()
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var snapshot = await FarmSnapshot.LoadAsync(connection, null, Now, CancellationToken.None);
        var servers = snapshot.Servers.ToDictionary(s => s.ServerId);
        var used = snapshot.Used;
        var capacity = snapshot.Capacity(Settings.Current,
            provider.GetRequiredService<IOptions<SchedulerOptions>>().Value.ReadyAhead(Settings.Current.MaxConcurrentBuilds));
        var placed = new List<(Guid, string)>();
        foreach (var build in QueueOrder.Order(snapshot.Queue, Now, Aging, snapshot.ServedBySubmitter))
        {
            if (build.RetryAt > Now)
            {
                continue;
            }
            if (Placement.Choose(build, servers.Values, capacity with { Used = used }, 85).Server is { } server)
            {
                capacity.Shares.Add(build);
                placed.Add((build.BuildId, server.ServerId));
                servers[server.ServerId] = server with { Assigned = server.Assigned + 1 };
                used++;
            }
        }
        return placed;
    }

    /// <summary>The builds dispatched (by the passes: the test adds none), with their servers.</summary>
    public async Task<List<(Guid, string)>> PlacementsAsync()
    {
        var placements = new List<(Guid, string)>();
        await using var command = dataSource.CreateCommand("SELECT correlation_id, server_id FROM build_state WHERE current_state = 'Dispatched'");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            placements.Add((reader.GetGuid(0), reader.GetString(1)));
        }
        return placements;
    }

    public async Task<T> QuerySingleAsync<T>(string sql, Func<NpgsqlDataReader, T> read, params object[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"no row: {sql}");
        var value = read(reader);
        Assert.False(await reader.ReadAsync(), $"more than one row: {sql}");
        return value;
    }

    public ValueTask<NpgsqlConnection> OpenConnectionAsync() => dataSource.OpenConnectionAsync();

    public async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await provider.DisposeAsync();
        await dataSource.DisposeAsync();
        await TestServers.DropDatabaseAsync(database);
    }
}
