using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BuildFarm.ServiceDefaults.Auth;
using Npgsql;

namespace BuildFarm.Farm.Bench;

/// <summary>Scenario 4: throughput, with RabbitMQ messages and PostgreSQL transactions per build.</summary>
internal sealed partial class FarmScenarios
{

    public async Task<Dictionary<string, double>> ThroughputAsync()
    {
        var farm = await SharedAsync();
        var user = User("throughput");
        var before = await CountersAsync(farm);
        var (ids, refused, firstSubmit, submitSeconds) = await SubmitManyAsync(farm, options.ThroughputBuilds, options.MassClients, _ => user, served: true);
        var timeout = TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(ids.Count / 2.0);
        await BuildLedger.AwaitAsync(farm.Ledger, ids, b => b.RebuildEnd is not null, timeout);
        using var viewer = farm.Client(user, FarmRoles.Viewer);
        var ended = await FarmApi.AwaitEndedAsync(viewer, farm.SubmissionUrl, user, ids, TimeSpan.FromMinutes(3));
        var lastFinished = ids.Where(ended.ContainsKey).Max(id => ended[id].FinishedAt ?? ended[id].SubmittedAt);
        // RabbitMQ's management statistics lag by up to their interval (1 s here); PostgreSQL's cumulative statistics are
        // flushed by an idle backend within 10 s.
        await Task.Delay(options.Quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(11));
        var after = await CountersAsync(farm);
        var n = (double)ids.Count;
        return new Dictionary<string, double>
        {
            ["builds"] = ids.Count,
            ["refused"] = refused,
            ["notCompleted"] = ids.Count(id => ended[id].State != "Completed"),
            ["lost"] = ids.Count(id => !ended.ContainsKey(id)),
            ["submitSeconds"] = Math.Round(submitSeconds, 2),
            ["buildsPerSecond"] = Math.Round(n / (WallClock.Of(lastFinished) - firstSubmit), 2),
            ["messagesPublishedPerBuild"] = Math.Round((after.Published - before.Published) / n, 2),
            ["messagesDeliveredPerBuild"] = Math.Round((after.Delivered - before.Delivered) / n, 2),
            ["pgTransactionsPerBuild"] = Math.Round((after.Commits - before.Commits) / n, 2),
            ["pgWriteTransactionsPerBuild"] = Math.Round((after.Xid - before.Xid) / n, 2),
        };
    }

    private sealed record Counters(long Published, long Delivered, long Commits, long Xid);

    /// <summary>
    /// The farm's virtual host's message statistics (published, delivered) from RabbitMQ's management API; the farm
    /// database's committed transactions (pg_stat_database) and the next transaction id (write transactions take one).
    /// </summary>
    private async Task<Counters> CountersAsync(BenchFarm farm)
    {
        using var management = new HttpClient { BaseAddress = new Uri(servers.Management.GetLeftPart(UriPartial.Authority) + "/") };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("guest:guest")));
        var vhost = Uri.UnescapeDataString(farm.VirtualHost.AbsolutePath.TrimStart('/'));
        using var document = JsonDocument.Parse(await management.GetStringAsync($"api/vhosts/{Uri.EscapeDataString(vhost)}"));
        long Stat(string name) => document.RootElement.TryGetProperty("message_stats", out var stats) && stats.TryGetProperty(name, out var v) ? v.GetInt64() : 0;
        await using var connection = new NpgsqlConnection(farm.Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT xact_commit, pg_snapshot_xmax(pg_current_snapshot())::text::bigint FROM pg_stat_database WHERE datname = current_database()", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new Counters(Stat("publish"), Stat("deliver_get"), reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>
    /// Submits <paramref name="count"/> builds from <paramref name="clients"/> concurrent clients (client i as user
    /// <paramref name="userOf"/>(i)); returns the accepted ids, how many were refused, when the first was sent (Unix
    /// seconds) and how long all took.
    /// </summary>
    private static async Task<(List<Guid> Ids, int Refused, double FirstSubmit, double Seconds)> SubmitManyAsync(
        BenchFarm farm, int count, int clients, Func<int, string> userOf, bool served, Dictionary<Guid, string>? owners = null)
    {
        var ids = new List<Guid>(count);
        var refused = 0;
        string? firstError = null;
        var next = -1;
        var first = WallClock.Now;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var user = userOf(c);
            using var http = farm.Client(user, FarmRoles.Submitter);
            while (Interlocked.Increment(ref next) < count)
            {
                var (id, error) = await FarmApi.SubmitAsync(http, farm.SubmissionUrl, farm.Build(NoopSpec, served));
                lock (ids)
                {
                    if (id is { } built)
                    {
                        ids.Add(built);
                        owners?.Add(built, user);
                    }
                    else
                    {
                        refused++;
                        firstError ??= error;
                    }
                }
            }
        }));
        if (firstError is not null)
        {
            Console.WriteLine($"[bench] {refused} submissions refused; the first: {firstError}");
        }
        return (ids, refused, first, clock.Elapsed.TotalSeconds);
    }
}
