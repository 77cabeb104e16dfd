// Measures what storing one log batch costs now that the per-attempt cap is applied where batches are stored
// (LogStore.AppendLogAsync: a transaction that locks the attempt's build_log_size row) against the single statement
// the gateway used before, on a real PostgreSQL, and writes bench/results/log-store.md.
// usage: dotnet run -c Release --project bench/LogStore -- [POSTGRES] [--batches N] [--runs R] [--out FILE]
// POSTGRES (an Npgsql connection string) defaults to $BUILDFARM_TEST_POSTGRES; a database of its own is made and dropped.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using BuildFarm.Contracts;
using BuildFarm.Persistence;
using BuildFarm.Submission.Logs;
using Npgsql;

var postgres = Environment.GetEnvironmentVariable("BUILDFARM_TEST_POSTGRES");
var batches = 2000;
var runs = 3;
string? output = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--batches": batches = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--out": output = args[++i]; break;
        default: postgres = args[i]; break;
    }
}
if (string.IsNullOrWhiteSpace(postgres))
{
    Console.Error.WriteLine("Give a PostgreSQL connection string as an argument or in BUILDFARM_TEST_POSTGRES.");
    return 2;
}
var root = FindRepositoryRoot();
output ??= Path.Combine(root, "bench", "results", "log-store.md");

var databaseName = $"bench_log_store_{Guid.NewGuid():N}";
await using (var admin = NpgsqlDataSource.Create(postgres))
{
    await using var create = admin.CreateCommand($"CREATE DATABASE {databaseName}");
    await create.ExecuteNonQueryAsync();
}
var connectionString = new NpgsqlConnectionStringBuilder(postgres) { Database = databaseName }.ConnectionString;
var rows = new List<string>();
try
{
    await using var database = NpgsqlDataSource.Create(connectionString);
    foreach (var file in Directory.GetFiles(Path.Combine(root, "services", "Scheduler", "Migrations"), "*.sql").Order(StringComparer.Ordinal))
    {
        await using var command = database.CreateCommand(await File.ReadAllTextAsync(file));
        await command.ExecuteNonQueryAsync();
    }
    await PostgresMigrator.ApplyAsync(database, typeof(LogStore).Assembly, CancellationToken.None);
    var store = new LogStore(database);

    foreach (var size in new[] { 4 * 1024, 64 * 1024 })
    {
        foreach (var writers in new[] { 1, 8 })
        {
            for (var run = 1; run <= runs; run++)
            {
                var before = await MeasureAsync(database, size, writers, (batch, ct) => AppendAsBeforeAsync(database, batch, ct));
                var now = await MeasureAsync(database, size, writers, (batch, ct) => store.AppendLogAsync(batch, 1024 * 1024 * 1024, ct));
                var row = string.Create(CultureInfo.InvariantCulture,
                    $"| {size / 1024} KiB | {writers} | {run} | {before.PerSecond:F0} | {before.P50:F2} | {before.P99:F2} | {now.PerSecond:F0} | {now.P50:F2} | {now.P99:F2} |");
                Console.WriteLine(row);
                rows.Add(row);
            }
        }
    }
}
finally
{
    NpgsqlConnection.ClearAllPools();
    await using var admin = NpgsqlDataSource.Create(postgres);
    await using var drop = admin.CreateCommand($"DROP DATABASE IF EXISTS {databaseName} WITH (FORCE)");
    await drop.ExecuteNonQueryAsync();
}

var report = new StringBuilder()
    .AppendLine("# Log store: the cost of the per-attempt cap")
    .AppendLine()
    .AppendLine(CultureInfo.InvariantCulture, $"`dotnet run -c Release --project bench/LogStore` on {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}, PostgreSQL from")
    .AppendLine("`./farm test`'s test servers (loopback). Each figure stores `--batches` log batches of one attempt")
    .AppendLine(CultureInfo.InvariantCulture, $"({batches} here), by 1 writer or 8 writers at once (one stream each), through `LogStore.AppendLogAsync`")
    .AppendLine("(\"now\": a transaction that checks the holder, locks the attempt's size row, checks for a repeat, stores and counts)")
    .AppendLine("and through the single statement it used before the cap (\"before\": holder check, insert, notify). Latency is per call.")
    .AppendLine()
    .AppendLine("| batch | writers | run | before: batches/s | p50 ms | p99 ms | now: batches/s | p50 ms | p99 ms |")
    .AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
rows.ForEach(r => report.AppendLine(r));
await File.WriteAllTextAsync(output, report.ToString());
Console.WriteLine($"wrote {output}");
return 0;

async Task<(double PerSecond, double P50, double P99)> MeasureAsync(NpgsqlDataSource database, int size, int writers, Func<BuildLogAppended, CancellationToken, Task<bool>> append)
{
    var buildId = Guid.NewGuid();
    var data = JsonSerializer.Serialize(new
    {
        CorrelationId = buildId,
        History = new[] { new { State = "Building", Attempt = 1, ServerId = "bench" } },
    });
    await using (var command = database.CreateCommand("INSERT INTO build_state (correlation_id, current_state, version, data) VALUES ($1, 'Building', 1, $2::jsonb)"))
    {
        command.Parameters.AddWithValue(buildId);
        command.Parameters.AddWithValue(data);
        await command.ExecuteNonQueryAsync();
    }
    var text = new string('x', size - 1) + "\n";
    var latencies = new double[batches];
    var each = batches / writers;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
    {
        for (var n = 0; n < each; n++)
        {
            var batch = new BuildLogAppended
            {
                BuildId = buildId, Attempt = 1, ServerId = "bench", Stream = $"s{w}", Sequence = n + 1, Offset = (long)n * size, Text = text,
                At = DateTimeOffset.UtcNow,
            };
            var started = Stopwatch.GetTimestamp();
            if (!await append(batch, CancellationToken.None))
            {
                throw new InvalidOperationException("a batch was refused");
            }
            latencies[w * each + n] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
    })));
    var elapsed = clock.Elapsed.TotalSeconds;
    var sorted = latencies.Take(each * writers).Order().ToArray();
    return (each * writers / elapsed, sorted[sorted.Length / 2], sorted[(int)(sorted.Length * 0.99)]);
}

// The statement LogStore.AppendLogAsync ran before the cap (commit 42a4f00), for comparison.
static async Task<bool> AppendAsBeforeAsync(NpgsqlDataSource database, BuildLogAppended batch, CancellationToken ct)
{
    await using var command = database.CreateCommand("""
        WITH holder AS (
            SELECT 1 FROM build_state
             WHERE correlation_id = $1
               AND data->'History' @> jsonb_build_array(jsonb_build_object('Attempt', $2, 'ServerId', $8::text))),
        stored AS (
            INSERT INTO build_log (build_id, attempt, stream, sequence, byte_offset, text, at)
            SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM holder)
            ON CONFLICT DO NOTHING RETURNING build_id)
        SELECT EXISTS (SELECT 1 FROM holder), (SELECT count(*) FROM (SELECT pg_notify('build_log', build_id::text) FROM stored) n)
        """);
    command.Parameters.AddWithValue(batch.BuildId);
    command.Parameters.AddWithValue(batch.Attempt);
    command.Parameters.AddWithValue(batch.Stream);
    command.Parameters.AddWithValue(batch.Sequence);
    command.Parameters.AddWithValue(batch.Offset);
    command.Parameters.AddWithValue(batch.Text);
    command.Parameters.AddWithValue(batch.At);
    command.Parameters.AddWithValue(batch.ServerId);
    await using var reader = await command.ExecuteReaderAsync(ct);
    return await reader.ReadAsync(ct) && reader.GetBoolean(0);
}

static string FindRepositoryRoot()
{
    for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
    {
        if (File.Exists(Path.Combine(directory.FullName, "BuildFarm.sln")))
        {
            return directory.FullName;
        }
    }
    throw new InvalidOperationException("Run from inside the repository.");
}
