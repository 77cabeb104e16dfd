using System.Collections.Concurrent;
using BuildFarm.Contracts;
using BuildFarm.ServiceDefaults;
using BuildFarm.Testing;
using MassTransit;
using Npgsql;

namespace BuildFarm.Scheduler.Tests;

/// <summary>
/// Real Scheduler processes on a database and RabbitMQ virtual host of their own, and build servers
/// played by the test: they heartbeat, take DispatchBuild from their queues, and finish builds when told.
/// </summary>
public sealed class SchedulerFarm : IAsyncDisposable
{
    private readonly List<ServiceProcess> schedulers = [];
    private readonly Dictionary<string, string> environment = [];
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentDictionary<string, FakeServer> servers = new();
    private IBusControl bus = null!;
    private Task heartbeats = Task.CompletedTask;

    public string Database { get; private set; } = "";
    public Uri VirtualHost { get; private set; } = null!;
    public IBus Bus => bus;
    /// <summary>Every DispatchBuild any fake server received, in order.</summary>
    public ConcurrentQueue<DispatchBuild> Dispatches { get; } = new();
    public IReadOnlyCollection<FakeServer> Servers => servers.Values.ToList();
    /// <summary>Every BuildRejected the Scheduler published.</summary>
    public ConcurrentQueue<BuildRejected> Rejections { get; } = new();

    public static Task<SchedulerFarm> StartAsync(int schedulers, params FakeServer[] fakeServers) =>
        StartAsync(schedulers, _ => { }, fakeServers);

    /// <summary>Starts the farm with settings of the test's own (<paramref name="configure"/> edits the Schedulers' environment).</summary>
    public static async Task<SchedulerFarm> StartAsync(int schedulers, Action<IDictionary<string, string>> configure, params FakeServer[] fakeServers)
    {
        var farm = new SchedulerFarm();
        farm.Database = await TestServers.CreateDatabaseAsync("sched");
        farm.VirtualHost = await TestServers.CreateVirtualHostAsync("sched");
        farm.environment["ConnectionStrings__Postgres"] = farm.Database;
        farm.environment["ConnectionStrings__RabbitMq"] = farm.VirtualHost.ToString();
        // The test plays every other part of the farm as guest, so nothing checks who sent a message (the end-to-end tests do).
        farm.environment["Bus__Senders__Check"] = "false";
        farm.environment["Scheduler__MonitorInterval"] = "00:00:00.250";
        configure(farm.environment);
        foreach (var server in fakeServers)
        {
            farm.servers[server.Id] = server;
        }
        farm.bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.ConfigureRabbitMqHost(farm.VirtualHost);
            foreach (var server in fakeServers)
            {
                cfg.ReceiveEndpoint($"build-server-{server.Id}", e => e.Handler<DispatchBuild>(ctx => farm.OnDispatch(server, ctx)));
            }
            cfg.ReceiveEndpoint("test-rejections", e => e.Handler<BuildRejected>(ctx =>
            {
                farm.Rejections.Enqueue(ctx.Message);
                return Task.CompletedTask;
            }));
        });
        await farm.bus.StartAsync();
        for (var i = 0; i < schedulers; i++)
        {
            farm.schedulers.Add(await ServiceProcess.StartAsync("Scheduler", farm.environment));
        }
        return farm;
    }

    /// <summary>Starts the servers' heartbeats (every 500 ms).</summary>
    public void StartHeartbeats() => heartbeats = Task.Run(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            foreach (var server in servers.Values.Where(s => !s.Silent))
            {
                await bus.Publish(server.Heartbeat());
            }
            try
            {
                await Task.Delay(500, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    });

    private async Task OnDispatch(FakeServer server, ConsumeContext<DispatchBuild> context)
    {
        var m = context.Message;
        if (!server.FirstDelivery(m.BuildId, m.Attempt))
        {
            return; // delivery is at least once: like the real Worker, a repeated dispatch of the same attempt is ignored
        }
        Dispatches.Enqueue(m);
        if (server.Holding)
        {
            return; // taken from the queue and kept: StartHeldAsync starts it
        }
        await StartAsync(server, m);
    }

    /// <summary>Accepts and starts, in the server's current process, a dispatch it held.</summary>
    public Task StartHeldAsync(FakeServer server, DispatchBuild m) => StartAsync(server, m);

    private async Task StartAsync(FakeServer server, DispatchBuild m)
    {
        server.Begin(m.BuildId, m.Attempt);
        await bus.Publish(new BuildRunAccepted
        {
            BuildId = m.BuildId, Attempt = m.Attempt, ServerId = server.Id, InstanceId = server.Instance, AcceptedAt = DateTimeOffset.UtcNow,
        });
        await bus.Publish(new BuildRunStarted
        {
            BuildId = m.BuildId, Attempt = m.Attempt, ServerId = server.Id, InstanceId = server.Instance, FencingToken = 1, StartedAt = DateTimeOffset.UtcNow,
        });
        if (server.FinishAfter is { } after)
        {
            _ = Task.Run(async () =>
            {
                await Task.Delay(after);
                await FinishAsync(server, m.BuildId, m.Attempt);
            });
        }
    }

    public async Task FinishAsync(FakeServer server, Guid buildId, int attempt)
    {
        server.End(buildId, attempt);
        await bus.Publish(new BuildRunFinished
        {
            BuildId = buildId, Attempt = attempt, ServerId = server.Id, Outcome = BuildRunOutcome.Succeeded, FinishedAt = DateTimeOffset.UtcNow,
        });
    }

    public static BuildRequested Request(string who, string priority, string arch = "x86_64", string? server = null) => new()
    {
        BuildId = NewId.NextGuid(),
        SourceRepository = "https://example.org/rpms/hello.git",
        Branch = "main",
        CommitHash = "0123456789abcdef0123456789abcdef01234567",
        TargetArchitecture = arch,
        Toolchain = "rpmbuild",
        Priority = priority,
        SubmittedBy = who,
        ServerId = server,
        SubmittedAt = DateTimeOffset.UtcNow,
    };

    public Task<long> CountAsync(string state) => ScalarAsync("SELECT count(*) FROM build_state WHERE current_state = $1", state);

    /// <summary>Kills Scheduler number <paramref name="index"/> as kill -9 would and starts a new one in its place.</summary>
    public async Task KillAndRestartAsync(int index)
    {
        await schedulers[index].KillAsync();
        await schedulers[index].DisposeAsync();
        schedulers[index] = await ServiceProcess.StartAsync("Scheduler", environment);
    }

    /// <summary>Each build's state, attempt and how many times its history says it completed.</summary>
    public async Task<List<(Guid Id, string State, int Attempt, int Completions)>> BuildsAsync()
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT correlation_id, current_state, (data->>'Attempt')::int,
                   (SELECT count(*)::int FROM jsonb_array_elements(data->'History') h WHERE h->>'State' = 'Completed')
              FROM build_state
            """, connection);
        var builds = new List<(Guid, string, int, int)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            builds.Add((reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3)));
        }
        return builds;
    }

    public async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.AddWithValue(parameter);
        }
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The reasons in a build's history, oldest first.</summary>
    public async Task<List<string>> HistoryAsync(Guid buildId)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT coalesce(h->>'Reason', '') FROM build_state, jsonb_array_elements(data->'History') h WHERE correlation_id = $1", connection);
        command.Parameters.AddWithValue(buildId);
        var reasons = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            reasons.Add(reader.GetString(0));
        }
        return reasons;
    }

    /// <summary>The instance id the registry holds for a server and how many heartbeats of it were recorded (by last_seen).</summary>
    public async Task<(Guid? Instance, DateTimeOffset LastSeen)> ServerInstanceAsync(string serverId)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT instance_id, last_seen FROM build_server WHERE server_id = $1", connection);
        command.Parameters.AddWithValue(serverId);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.IsDBNull(0) ? null : reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)) : (null, default);
    }

    /// <summary>The count (or other bigint) a query of the Scheduler's database answers.</summary>
    public async Task<long> ScalarAsync(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.AddWithValue(parameter);
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public Task<long> ServersOnlineAsync() => ScalarAsync("SELECT count(*) FROM build_server WHERE online");

    /// <summary><see cref="Eventually.HoldsAsync(Func{Task{bool}}, string, TimeSpan?, Func{string}?)"/> with this farm's patience, and the Schedulers' last log lines when it times out.</summary>
    public Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 90) =>
        Eventually.HoldsAsync(condition, what, TimeSpan.FromSeconds(seconds),
            () => string.Join("\n", schedulers.Select(s => $"--- {s.Name} {s.Pid}:\n{s.Tail}")));

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await heartbeats;
        foreach (var scheduler in schedulers)
        {
            await scheduler.DisposeAsync();
        }
        await bus.StopAsync();
        await TestServers.DeleteVirtualHostAsync(VirtualHost);
        await TestServers.DropDatabaseAsync(Database);
        stop.Dispose();
    }
}

/// <summary>
/// A build server played by the test, counting how many attempts it runs at once (an attempt the Scheduler
/// declared lost runs on until it ends, as on a real server) and listing them in its heartbeats.
/// </summary>
public sealed class FakeServer(string id, int max, string architecture = "x86_64", TimeSpan? finishAfter = null)
{
    private readonly HashSet<(Guid BuildId, int Attempt)> active = [];
    private readonly HashSet<(Guid, int)> delivered = [];

    public string Id { get; } = id;
    public int Max { get; } = max;
    public TimeSpan? FinishAfter { get; } = finishAfter;
    public bool Maintenance { get; set; }
    /// <summary>
    /// The heartbeat interval it reports (missing three makes it lost). The farm sends its heartbeats every 500 ms
    /// whatever it reports: a longer interval lets a test ride out a stall of the test process under load.
    /// </summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>The Worker process it plays (reported in heartbeats and attempts when set).</summary>
    public Guid? Instance { get; private set; }

    /// <summary>Takes dispatches from its queue without accepting them (as a Worker killed before it could).</summary>
    public bool Holding { get; set; }

    /// <summary>A new Worker process of the server: a new instance id, and nothing running (the old process died with its builds).</summary>
    public void Restart()
    {
        lock (active)
        {
            active.Clear();
        }
        Instance = Guid.NewGuid();
    }

    /// <summary>Stops sending heartbeats, as a server that died or lost its network.</summary>
    public bool Silent { get; set; }
    /// <summary>The most attempts it ever ran at once.</summary>
    public int Peak { get; private set; }

    private readonly List<string> timeline = [];

    /// <summary>True the first time this attempt of the build is delivered here.</summary>
    public bool FirstDelivery(Guid buildId, int attempt)
    {
        lock (delivered)
        {
            return delivered.Add((buildId, attempt));
        }
    }

    public void Begin(Guid buildId, int attempt)
    {
        lock (active)
        {
            active.Add((buildId, attempt));
            Peak = Math.Max(Peak, active.Count);
            timeline.Add($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} begin {buildId} attempt {attempt}: {active.Count} running");
        }
    }

    public void End(Guid buildId, int attempt)
    {
        lock (active)
        {
            active.Remove((buildId, attempt));
            timeline.Add($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} end {buildId} attempt {attempt}: {active.Count} running");
        }
    }

    /// <summary>What began and ended here, in order (for a failing test's message).</summary>
    public string Timeline()
    {
        lock (active)
        {
            return $"{Id}:\n  " + string.Join("\n  ", timeline);
        }
    }

    public BuildServerHeartbeat Heartbeat()
    {
        List<RunningAttempt> running;
        lock (active)
        {
            running = active.Select(a => new RunningAttempt { BuildId = a.BuildId, Attempt = a.Attempt }).ToList();
        }
        return new BuildServerHeartbeat
        {
            ServerId = Id, InstanceId = Instance, Host = Id + ".test", Architectures = [architecture, "noarch"], Toolchains = ["rpmbuild"],
            MaxConcurrentBuilds = Max, ActiveBuilds = running.Count, Running = running, CpuPercent = 10, MemoryPercent = 10, DiskPercent = 10,
            Maintenance = Maintenance, Version = "test", Interval = Interval, SentAt = DateTimeOffset.UtcNow,
        };
    }
}
