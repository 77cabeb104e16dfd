// What one dispatch pass costs with a long queue, against the same farm with an empty queue, on the real PostgreSQL.
// usage: dotnet run -c Release --project bench/QueuePass -- [--queued N] [--finished N] [--servers N] [--passes N] [--out FILE]
// The server comes from BUILDFARM_TEST_POSTGRES (./farm test starts one; see scripts/servers.sh).
// The Scheduler's Dispatcher runs in this process on a database of its own: N build servers (4 slots each, all but one
// slot taken by running builds), `finished` finished builds (20,000 of them dispatched in the last two hours, the
// submitters' turns), then `queued` queued builds from 32 submitters at 4 priorities. Each measured pass finds one free
// slot and places one build; the placement is then undone so the next pass finds the same farm.
using System.Diagnostics;
using System.Globalization;
using BuildFarm.Bench;
using BuildFarm.Contracts;
using BuildFarm.Persistence;
using BuildFarm.Persistence.Outbox;
using BuildFarm.Scheduler;
using BuildFarm.Scheduler.Dispatch;
using BuildFarm.ServiceDefaults;
using BuildFarm.Testing;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

var queued = 100_000;
var finished = 300_000;
var serverCount = 200;
var passes = 200;
string? output = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--queued": queued = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--finished": finished = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--servers": serverCount = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--passes": passes = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--out": output = args[++i]; break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}");
            return 2;
    }
}
if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("BUILDFARM_TEST_POSTGRES")))
{
    Console.Error.WriteLine("BUILDFARM_TEST_POSTGRES is not set: export the test server's address (see scripts/servers.sh) first.");
    return 2;
}
output ??= Path.Combine(Repository.Root, "bench", "results", "queue-pass.md");
var now = DateTimeOffset.UtcNow;
var loadBefore = HostFacts.LoadAverage();
var clock = Stopwatch.StartNew();

var database = await TestServers.CreateDatabaseAsync("queuepass");
try
{
    await using var dataSource = NpgsqlDataSource.Create(database);
    await PostgresMigrator.ApplyAsync(dataSource, typeof(PostgresSession).Assembly, CancellationToken.None);
    await PostgresMigrator.ApplyAsync(dataSource, typeof(Dispatcher).Assembly, CancellationToken.None);
    var running = serverCount * 4 - 1;
    var settings = new FarmSettingsCache();
    settings.Apply(new FarmSettings { MaxConcurrentBuilds = 10_000 }, 1);
    var services = new ServiceCollection()
        .AddLogging()
        .AddSingleton(dataSource)
        .AddSingleton(settings)
        .AddSingleton<TimeProvider>(new FakeTimeProvider(now))
        .AddSingleton<Dispatcher>()
        .AddSingleton(BuildFarm.Scheduler.Data.BuildStateTable.CreateStore());
    services.AddOptions<SchedulerOptions>();
    services.AddMassTransitTestHarness();
    services.AddPostgresOutboxServices(o => o.DeliveryEnabled = false);
    foreach (var relay in services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType?.Namespace == typeof(PostgresOutbox).Namespace).ToList())
    {
        services.Remove(relay);
    }
    await using var provider = services.BuildServiceProvider();
    var dispatcher = provider.GetRequiredService<Dispatcher>();

    await ExecuteAsync("""
        INSERT INTO build_server (server_id, host, architectures, toolchains, max_concurrent, active_builds, cpu_percent, memory_percent,
                                  disk_percent, maintenance, version, heartbeat_interval, first_seen, last_seen, online)
        SELECT 'b' || i, 'b' || i || '.example.org', '{x86_64,noarch}', '{rpmbuild,mock:fedora-41-x86_64}', 4, 4, 30, 30, 30, false, '1',
               interval '5 seconds', $1, $1, true
          FROM generate_series(1, $2) i
        """, now, serverCount);
    await ExecuteAsync("""
        INSERT INTO build_state (correlation_id, current_state, version, data, attempt, server_id, priority, submitted_by, submitted_at,
                                 architecture, toolchain, repository, dispatched_at, started_at)
        SELECT gen_random_uuid(), 'Building', 3, '{}', 1, 'b' || (1 + i % $3), 'normal', 'user' || (i % 32), $1 - interval '3 hours',
               'x86_64', 'mock:fedora-41-x86_64', 'https://src.example.org/rpms/r' || i || '.git', $1 - interval '10 minutes', $1 - interval '10 minutes'
          FROM generate_series(1, $2) i
        """, now, running, serverCount);
    await ExecuteAsync("""
        INSERT INTO build_state (correlation_id, current_state, version, data, attempt, server_id, priority, submitted_by, submitted_at,
                                 architecture, toolchain, repository, dispatched_at, finished_at, updated_at)
        SELECT gen_random_uuid(), 'Completed', 5, '{}', 1, 'b' || (1 + i % $3), 'normal', 'user' || (i % 32), $1 - interval '2 days',
               'x86_64', 'mock:fedora-41-x86_64', 'https://src.example.org/rpms/p' || i || '.git',
               CASE WHEN i <= 20000 THEN $1 - interval '2 hours' + i * interval '300 ms' ELSE $1 - interval '1 day' END,
               $1 - interval '1 hour', $1 - interval '1 hour'
          FROM generate_series(1, $2) i
        """, now, finished, serverCount);
    await ExecuteAsync("VACUUM ANALYZE build_state");
    var empty = await MeasureAsync("empty queue");
    await ExecuteAsync("""
        INSERT INTO build_state (correlation_id, current_state, version, data, attempt, priority, submitted_by, submitted_at,
                                 architecture, toolchain, repository)
        SELECT id, 'Queued', 1,
               -- the saga's data, as its repository writes it (a pass that dispatches a build loads and rewrites it)
               jsonb_build_object('CurrentState', 'Queued', 'Attempt', 0, 'Priority', priority, 'SubmittedBy', who, 'SubmittedAt', at,
                                  'QueuedAt', at, 'TargetArchitecture', 'x86_64', 'Toolchain', 'mock:fedora-41-x86_64',
                                  'SourceRepository', repository, 'Branch', 'main', 'CommitHash', 'HEAD'),
               0, priority, who, at, 'x86_64', 'mock:fedora-41-x86_64', repository
          FROM (SELECT gen_random_uuid() AS id, (ARRAY['low','normal','high','urgent'])[1 + i % 4] AS priority, 'user' || (i % 32) AS who,
                       $1 - interval '3 hours' + i * interval '100 ms' AS at, 'https://src.example.org/rpms/q' || i || '.git' AS repository
                  FROM generate_series(1, $2) i) q
        """, now, queued);
    await ExecuteAsync("VACUUM ANALYZE build_state");
    var full = await MeasureAsync($"{queued:N0} queued");
    // The same queue with no free slot (the farm-wide limit reached): the pass reads no queue.
    settings.Apply(new FarmSettings { MaxConcurrentBuilds = running }, 2);
    var noSlot = await MeasureAsync($"{queued:N0} queued, no free slot");

    var lines = new List<string>
    {
        "# Dispatch pass cost with a long queue",
        "",
        string.Create(CultureInfo.InvariantCulture, $"Run {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC by `bench/QueuePass` ({clock.Elapsed.TotalMinutes:0.0} min): `dotnet run -c Release --project bench/QueuePass{(args.Length > 0 ? " -- " + string.Join(' ', args) : "")}`."),
        $"Machine: {Environment.ProcessorCount} cores ({HostFacts.Cpu()}), {HostFacts.Os()}; load average at the start {loadBefore}, at the end {HostFacts.LoadAverage()}.",
        $"Commit: {Git("rev-parse --short HEAD")}. .NET {Environment.Version}.",
        "",
        string.Create(CultureInfo.InvariantCulture, $"The Scheduler's `Dispatcher` in process on PostgreSQL: {serverCount} build servers × 4 slots with {running} builds running (one slot free), {finished:N0} finished builds (20,000 dispatched in the last two hours), 32 submitters, limit 10,000. Each pass places one build; the placement is undone before the next. {passes} passes per row, after 10 unmeasured."),
        "",
        "| queue | pass p50 | pass p99 | max | queued builds read per pass |",
        "|---|---|---|---|---|",
        Row(empty), Row(full), Row(noSlot),
        "",
        string.Create(CultureInfo.InvariantCulture, $"A pass with {queued:N0} queued costs {full.P50 / empty.P50:0.0}× the empty queue's at p50 (target: within 2×)."),
    };
    Directory.CreateDirectory(Path.GetDirectoryName(output)!);
    await File.WriteAllLinesAsync(output, lines);
    Console.WriteLine(string.Join('\n', lines));
    return 0;

    async Task<(string Name, double P50, double P99, double Max, int Read)> MeasureAsync(string name)
    {
        var times = new List<double>();
        var read = 0;
        for (var i = 0; i < passes + 10; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var pass = await dispatcher.RunPassAsync(CancellationToken.None);
            var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (i >= 10)
            {
                times.Add(ms);
                read = pass.QueueRead;
            }
            // Undo the dispatch: the build is queued again as it was.
            await ExecuteAsync("""
                UPDATE build_state SET current_state = 'Queued', version = 1, attempt = 0, server_id = NULL, dispatched_at = NULL, deadline_at = NULL,
                       data = (data - 'ServerId' - 'DispatchedAt' - 'DeadlineAt' - 'History') || '{"CurrentState": "Queued", "Attempt": 0}'
                 WHERE current_state = 'Dispatched'
                """);
            await ExecuteAsync("DELETE FROM outbox_message");
        }
        times.Sort();
        var result = (name, Percentile(times, 0.50), Percentile(times, 0.99), times[^1], read);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: p50 {result.Item2:0.00} ms, p99 {result.Item3:0.00} ms, read {read}"));
        return result;
    }

    async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.CommandTimeout = 600;
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        await command.ExecuteNonQueryAsync();
    }
}
finally
{
    await TestServers.DropDatabaseAsync(database);
}

static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

static string Row((string Name, double P50, double P99, double Max, int Read) r) =>
    string.Create(CultureInfo.InvariantCulture, $"| {r.Name} | {r.P50:0.00} ms | {r.P99:0.00} ms | {r.Max:0.00} ms | {r.Read} |");

static string Git(string arguments)
{
    using var git = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, WorkingDirectory = Repository.Root })!;
    var text = git.StandardOutput.ReadToEnd().Trim();
    git.WaitForExit();
    return text;
}
