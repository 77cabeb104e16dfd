using BuildFarm.Bench;
using System.Collections.Concurrent;
using System.Diagnostics;
using BuildFarm.Contracts;
using BuildFarm.ServiceDefaults;
using BuildFarm.Testing;
using MassTransit;
using Npgsql;

namespace BuildFarm.Dispatch.Bench;

/// <summary>
/// One scenario on the real servers: a database and RabbitMQ virtual host of its own, a real Scheduler process
/// started from its build output, and build servers played here (heartbeats, a <c>build-server-{id}</c> queue taking
/// <see cref="DispatchBuild"/>, replies BuildRunAccepted/BuildRunStarted/BuildRunFinished), as the Scheduler tests do.
/// The Settings service is played too: it answers the Scheduler's <see cref="GetFarmSettings"/> at start.
/// </summary>
internal sealed class DispatchFarm : IAsyncDisposable
{
    /// <summary>The Worker's default heartbeat interval: heartbeats also wake the dispatcher, so they stay rare.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(5);

    private readonly Scenario scenario;
    private readonly Dictionary<string, BenchServer> servers;
    private readonly ConcurrentDictionary<Guid, BuildTimeline> builds = new();
    private readonly ConcurrentQueue<string> problems = new();
    private readonly TaskCompletionSource allDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource settingsAsked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource stopHeartbeats = new();
    private Task heartbeats = Task.CompletedTask;
    private int completed;
    private int failed;
    private int rejected;
    private int duplicates;
    private string? database;
    private Uri? virtualHost;
    private IBusControl? bus;
    private ServiceProcess? scheduler;

    private DispatchFarm(Scenario scenario)
    {
        this.scenario = scenario;
        servers = Enumerable.Range(1, scenario.Servers)
            .Select(i => new BenchServer(scenario.Servers == 1 ? "solo" : $"s{i}", scenario.Capacity))
            .ToDictionary(s => s.Id);
    }

    /// <summary>The farm settings the benchmark hands the Scheduler: the farm-wide limit never holds the servers back.</summary>
    public static FarmSettings Settings(int slots) => new() { MaxConcurrentBuilds = Math.Max(4, slots), MaxQueueSize = 10_000 };

    public static async Task<ScenarioResult> RunAsync(Scenario scenario, string monitorInterval, Action<string> log, CancellationToken ct)
    {
        await using var farm = new DispatchFarm(scenario);
        return await farm.RunCoreAsync(log, monitorInterval, ct);
    }

    private async Task<ScenarioResult> RunCoreAsync(Action<string> log, string monitorInterval, CancellationToken ct)
    {
        database = await TestServers.CreateDatabaseAsync("bench_dispatch");
        virtualHost = await TestServers.CreateVirtualHostAsync("bench-dispatch");
        bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.ConfigureRabbitMqHost(virtualHost);
            foreach (var server in servers.Values)
            {
                cfg.ReceiveEndpoint($"build-server-{server.Id}", e => e.Handler<DispatchBuild>(c => OnDispatchAsync(server, c)));
            }
            cfg.ReceiveEndpoint("dispatch-bench", e =>
            {
                e.Handler<BuildStarted>(OnStartedAsync);
                e.Handler<BuildCompleted>(OnCompleted);
                e.Handler<BuildFailed>(OnFailed);
                e.Handler<BuildRejected>(OnRejected);
                e.Handler<GetFarmSettings>(OnGetSettingsAsync);
            });
        });
        await bus.StartAsync(ct);

        log($"  starting the Scheduler ({Repository.Configuration}) on {new NpgsqlConnectionStringBuilder(database).Database}");
        scheduler = await ServiceProcess.StartAsync("Scheduler", new Dictionary<string, string>
        {
            ["ConnectionStrings__Postgres"] = database,
            ["ConnectionStrings__RabbitMq"] = virtualHost.ToString(),
            ["Scheduler__MonitorInterval"] = monitorInterval,
        });
        var settingsFromBench = true;
        try
        {
            await settingsAsked.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        }
        catch (TimeoutException)
        {
            settingsFromBench = false;
            problems.Enqueue("the Scheduler did not ask for the farm settings within 30 s; broadcast SettingsChanged instead");
            await bus.Publish(new SettingsChanged { Settings = Settings(scenario.Slots), Revision = 1, ChangedBy = "bench", ChangedAt = DateTimeOffset.UtcNow }, ct);
        }

        log($"  queueing {scenario.Builds} builds before the first heartbeat");
        var queueing = Stopwatch.StartNew();
        var submitted = DateTimeOffset.UtcNow;
        for (var i = 0; i < scenario.Builds; i++)
        {
            await bus.Publish(Request(i, submitted.AddMilliseconds(i)), ct);
        }
        await WaitQueuedAsync(ct);
        queueing.Stop();

        log($"  {scenario.Builds} builds queued in {queueing.Elapsed.TotalSeconds:0.0} s; heartbeats start");
        var loadBefore = HostFacts.LoadAverage();
        var cpuBefore = SchedulerCpu();
        heartbeats = Task.Run(() => HeartbeatAsync(stopHeartbeats.Token), CancellationToken.None);
        var timedOut = false;
        try
        {
            await allDone.Task.WaitAsync(scenario.Timeout, ct);
        }
        catch (TimeoutException)
        {
            timedOut = true;
            problems.Enqueue($"stopped after {scenario.Timeout.TotalSeconds:0} s with {completed} of {scenario.Builds} builds completed");
        }
        var cpu = SchedulerCpu() - cpuBefore;
        var loadAfter = HostFacts.LoadAverage();
        await stopHeartbeats.CancelAsync();
        await heartbeats;
        log($"  {completed} completed, {failed} failed, {duplicates} duplicate dispatches{(timedOut ? ", TIMED OUT" : "")}");

        return new ScenarioResult(
            scenario,
            builds.Values.ToList(),
            servers.Values.ToDictionary(s => s.Id, s => s.Peak),
            completed, failed, duplicates, timedOut, settingsFromBench, queueing.Elapsed, cpu, loadBefore, loadAfter,
            problems.ToList());
    }

    private BuildRequested Request(int i, DateTimeOffset submittedAt) => new()
    {
        BuildId = NewId.NextGuid(),
        SourceRepository = "https://example.org/rpms/hello.git",
        Branch = "main",
        CommitHash = "0123456789abcdef0123456789abcdef01234567",
        TargetArchitecture = "x86_64",
        Toolchain = "rpmbuild",
        Priority = "normal",
        SubmittedBy = $"user{i % 3}",
        SubmittedAt = submittedAt,
    };

    private async Task WaitQueuedAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + scenario.Timeout;
        while (true)
        {
            if (Volatile.Read(ref rejected) > 0)
            {
                throw new InvalidOperationException($"{rejected} builds were rejected: {string.Join("; ", problems)}");
            }
            await using (var connection = new NpgsqlConnection(database))
            {
                await connection.OpenAsync(ct);
                await using var command = new NpgsqlCommand("SELECT count(*) FROM build_state WHERE current_state = 'Queued'", connection);
                if ((long)(await command.ExecuteScalarAsync(ct))! >= scenario.Builds)
                {
                    return;
                }
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"the builds were not all queued within {scenario.Timeout.TotalSeconds:0} s\n{scheduler?.Tail}");
            }
            await Task.Delay(250, ct);
        }
    }

    private async Task HeartbeatAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            foreach (var server in servers.Values)
            {
                await bus!.Publish(server.Heartbeat(HeartbeatInterval), CancellationToken.None);
            }
            try
            {
                await Task.Delay(HeartbeatInterval, ct);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private TimeSpan SchedulerCpu()
    {
        try
        {
            using var process = Process.GetProcessById(scheduler!.Pid);
            return process.TotalProcessorTime;
        }
        catch (ArgumentException)
        {
            return TimeSpan.Zero;
        }
    }

    private async Task OnDispatchAsync(BenchServer server, ConsumeContext<DispatchBuild> context)
    {
        var arrived = Stopwatch.GetTimestamp();
        var m = context.Message;
        var build = builds.GetOrAdd(m.BuildId, id => new BuildTimeline(id));
        lock (build)
        {
            if (build.Dispatched != 0)
            {
                Interlocked.Increment(ref duplicates);
                return;
            }
            build.Dispatched = arrived;
            build.ServerId = server.Id;
            build.Attempt = m.Attempt;
        }
        server.Begin();
        await bus!.Publish(new BuildRunAccepted { BuildId = m.BuildId, Attempt = m.Attempt, ServerId = server.Id, AcceptedAt = DateTimeOffset.UtcNow });
        await bus.Publish(new BuildRunStarted { BuildId = m.BuildId, Attempt = m.Attempt, ServerId = server.Id, FencingToken = 1, StartedAt = DateTimeOffset.UtcNow });
        if (scenario.Finish == FinishWhen.OnDispatch)
        {
            await FinishAsync(server, build);
        }
    }

    private async Task OnStartedAsync(ConsumeContext<BuildStarted> context)
    {
        var arrived = Stopwatch.GetTimestamp();
        if (!builds.TryGetValue(context.Message.BuildId, out var build))
        {
            return;
        }
        lock (build)
        {
            if (build.Started != 0)
            {
                return;
            }
            build.Started = arrived;
        }
        if (scenario.Finish == FinishWhen.OnBuildStarted)
        {
            await FinishAsync(servers[build.ServerId], build);
        }
    }

    private async Task FinishAsync(BenchServer server, BuildTimeline build)
    {
        lock (build)
        {
            if (build.Finishing != 0)
            {
                return;
            }
            build.Finishing = Stopwatch.GetTimestamp();
        }
        server.End();
        await bus!.Publish(new BuildRunFinished
        {
            BuildId = build.BuildId, Attempt = build.Attempt, ServerId = server.Id, Outcome = BuildRunOutcome.Succeeded,
            ExitCode = 0, FencingToken = 1, FinishedAt = DateTimeOffset.UtcNow,
        });
    }

    private Task OnCompleted(ConsumeContext<BuildCompleted> context)
    {
        var arrived = Stopwatch.GetTimestamp();
        if (builds.TryGetValue(context.Message.BuildId, out var build))
        {
            lock (build)
            {
                if (build.Completed != 0)
                {
                    return Task.CompletedTask;
                }
                build.Completed = arrived;
            }
        }
        else
        {
            problems.Enqueue($"BuildCompleted for {context.Message.BuildId}, which no server was dispatched");
        }
        CheckDone(Interlocked.Increment(ref completed) + Volatile.Read(ref failed));
        return Task.CompletedTask;
    }

    private Task OnFailed(ConsumeContext<BuildFailed> context)
    {
        problems.Enqueue($"build {context.Message.BuildId} {context.Message.State}: {context.Message.Reason}");
        CheckDone(Interlocked.Increment(ref failed) + Volatile.Read(ref completed));
        return Task.CompletedTask;
    }

    private Task OnRejected(ConsumeContext<BuildRejected> context)
    {
        Interlocked.Increment(ref rejected);
        problems.Enqueue($"build {context.Message.BuildId} rejected: {string.Join(", ", context.Message.Errors.Select(e => e.Message))}");
        return Task.CompletedTask;
    }

    private async Task OnGetSettingsAsync(ConsumeContext<GetFarmSettings> context)
    {
        await context.RespondAsync(new SettingsChanged
        {
            Settings = Settings(scenario.Slots), Revision = 1, ChangedBy = "bench", ChangedAt = DateTimeOffset.UtcNow,
        });
        settingsAsked.TrySetResult();
    }

    private void CheckDone(int finished)
    {
        if (finished >= scenario.Builds)
        {
            allDone.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopHeartbeats.CancelAsync();
        await heartbeats;
        if (scheduler is not null)
        {
            await scheduler.DisposeAsync();
        }
        if (bus is not null)
        {
            await bus.StopAsync(CancellationToken.None);
        }
        if (virtualHost is not null)
        {
            await TestServers.DeleteVirtualHostAsync(virtualHost);
        }
        if (database is not null)
        {
            await TestServers.DropDatabaseAsync(database);
        }
        stopHeartbeats.Dispose();
    }
}
