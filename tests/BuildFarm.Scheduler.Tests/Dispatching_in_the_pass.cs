using System.Text.Json;
using BuildFarm.Domain;
using BuildFarm.Scheduler.Dispatch;
using BuildFarm.Testing;
using Npgsql;

namespace BuildFarm.Scheduler.Tests;

/// <summary>
/// The dispatcher makes the saga's Queued → Dispatched transition itself and sends <c>DispatchBuild</c> through the
/// outbox, in the pass's one transaction (no <c>AssignBuild</c> round trip through the bus). These tests hold what
/// that writes, on PostgreSQL, and that a build leaving the queue while the pass places it is not dispatched.
/// </summary>
public sealed class Dispatching_in_the_pass
{
    private static QueuedBuild Build(string who) => new(
        Guid.NewGuid(), BuildPriority.Normal, who, SchedulerDatabase.Now.AddMinutes(-1), "x86_64", "rpmbuild", null,
        "https://example.org/hello.git", null);

    [Fact]
    public async Task A_pass_writes_the_transition_and_its_dispatch_in_one_transaction()
    {
        await using var farm = await SchedulerDatabase.CreateAsync(limit: 4);
        await farm.AddServerAsync("s1", "x86_64", ["rpmbuild"], max: 2);
        var build = Build("alice");
        await farm.AddQueuedAsync([build]);

        var pass = await farm.Dispatcher.RunPassAsync(CancellationToken.None);

        Assert.Equal(1, pass.Placed);
        var (state, version, attempt, server, deadline, data) = await farm.QuerySingleAsync(
            "SELECT current_state, version, attempt, server_id, deadline_at, data::text FROM build_state WHERE correlation_id = $1",
            r => (r.GetString(0), r.GetInt32(1), r.GetInt32(2), r.GetString(3), r.GetFieldValue<DateTimeOffset>(4), r.GetString(5)), build.BuildId);
        Assert.Equal(("Dispatched", 2, 1, "s1"), (state, version, attempt, server));
        Assert.Equal(SchedulerDatabase.Now + new SchedulerOptions().DispatchAckTimeout, deadline);
        using var json = JsonDocument.Parse(data);
        Assert.Equal("Dispatched", json.RootElement.GetProperty("CurrentState").GetString());
        Assert.Equal("dispatched to s1", json.RootElement.GetProperty("History")[0].GetProperty("Reason").GetString());
        var (destination, type, body) = await farm.QuerySingleAsync(
            "SELECT destination_address, message_type, body FROM outbox_message",
            r => (r.GetString(0), r.GetString(1), r.GetString(2)));
        Assert.EndsWith("/build-server-s1", new Uri(destination).AbsolutePath, StringComparison.Ordinal);
        Assert.Contains("DispatchBuild", type, StringComparison.Ordinal);
        Assert.Contains(build.BuildId.ToString(), body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_build_cancelled_while_the_pass_places_it_is_not_dispatched_and_its_slot_goes_to_the_next()
    {
        await using var farm = await SchedulerDatabase.CreateAsync(limit: 1);
        await farm.AddServerAsync("s1", "x86_64", ["rpmbuild"], max: 1);
        var cancelled = Build("alice");
        var next = Build("bob") with { SubmittedAt = SchedulerDatabase.Now };
        await farm.AddQueuedAsync([cancelled, next]);

        // A saga transaction is cancelling the first build: it holds the row, as a consume does, when the pass reaches it.
        await using var saga = await farm.OpenConnectionAsync();
        await using var transaction = await saga.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM build_state WHERE correlation_id = $1 FOR UPDATE", saga, transaction))
        {
            lockRow.Parameters.Add(new NpgsqlParameter { Value = cancelled.BuildId });
            await lockRow.ExecuteScalarAsync();
        }
        var pass = farm.Dispatcher.RunPassAsync(CancellationToken.None);
        await Eventually.HoldsAsync(async () => await farm.QuerySingleAsync(
            "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", r => r.GetInt32(0)) == 1,
            "the pass waits for the build's row");
        await using (var cancel = new NpgsqlCommand("""
            UPDATE build_state SET current_state = 'Cancelled', version = version + 1,
                                   data = jsonb_set(data, '{CurrentState}', '"Cancelled"')
             WHERE correlation_id = $1
            """, saga, transaction))
        {
            cancel.Parameters.Add(new NpgsqlParameter { Value = cancelled.BuildId });
            await cancel.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
        var first = await pass;
        var second = await farm.Dispatcher.RunPassAsync(CancellationToken.None);

        Assert.Equal((1, 0), (first.Placed, second.Placed));
        Assert.Equal([(next.BuildId, "s1")], await farm.PlacementsAsync());
        Assert.Equal("Cancelled", await farm.QuerySingleAsync("SELECT current_state FROM build_state WHERE correlation_id = $1", r => r.GetString(0), cancelled.BuildId));
        Assert.Equal(1, await farm.QuerySingleAsync("SELECT count(*)::int FROM outbox_message", r => r.GetInt32(0)));
    }

    [Fact]
    public async Task A_build_placed_ahead_of_the_limit_may_wait_for_a_slot_as_long_as_the_longest_build_runs()
    {
        await using var farm = await SchedulerDatabase.CreateAsync(limit: 2);
        await farm.AddServerAsync("s1", "x86_64", ["rpmbuild"], max: 8);
        var builds = Enumerable.Range(0, 5).Select(i => Build("alice") with { SubmittedAt = SchedulerDatabase.Now.AddMinutes(-10 + i) }).ToList();
        await farm.AddQueuedAsync(builds);

        var pass = await farm.Dispatcher.RunPassAsync(CancellationToken.None);
        var again = await farm.Dispatcher.RunPassAsync(CancellationToken.None);

        // The limit's 2, and one more (10 % of 2, at least one) to take the next slot given back.
        Assert.Equal((3, 0), (pass.Placed, again.Placed));
        Assert.Equal(builds.Take(3).Select(b => (b.BuildId, "s1")).Order(), (await farm.PlacementsAsync()).Order());
        var waits = new Dictionary<Guid, int?>();
        await using (var connection = await farm.OpenConnectionAsync())
        await using (var command = new NpgsqlCommand("SELECT body FROM outbox_message", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                using var body = JsonDocument.Parse(reader.GetString(0));
                var message = body.RootElement.TryGetProperty("message", out var inner) ? inner : body.RootElement;
                waits[message.GetProperty("buildId").GetGuid()] =
                    message.TryGetProperty("slotWaitTimeoutSeconds", out var wait) && wait.ValueKind == JsonValueKind.Number ? wait.GetInt32() : null;
            }
        }
        var farmWait = new Contracts.FarmSettings().SlotWaitTimeoutSeconds;
        var longest = new Contracts.FarmSettings().MaxBuildMinutes * 60;
        Assert.Equal([null, null, farmWait + longest], builds.Take(3).Select(b => waits[b.BuildId]));
        var slotWait = await farm.QuerySingleAsync("SELECT (data->>'SlotWaitSeconds')::int FROM build_state WHERE correlation_id = $1",
            r => r.GetInt32(0), builds[2].BuildId);
        Assert.Equal(farmWait + longest, slotWait);
    }
}
