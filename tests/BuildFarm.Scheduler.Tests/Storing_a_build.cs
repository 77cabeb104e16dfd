using System.Reflection;
using BuildFarm.Contracts;
using BuildFarm.Persistence;
using BuildFarm.Persistence.Saga;
using BuildFarm.Scheduler.Data;
using BuildFarm.Scheduler.StateMachines;
using BuildFarm.Testing;
using MassTransit;
using Npgsql;

namespace BuildFarm.Scheduler.Tests;

/// <summary>The build saga's table, which the Scheduler owns and other code queries by column.</summary>
public sealed class Storing_a_build
{
    [Fact]
    public void The_saga_has_exactly_the_states_BuildStates_names()
    {
        // MassTransit names each state after its property on the machine.
        var states = typeof(BuildStateMachine).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.PropertyType == typeof(State) && p.DeclaringType == typeof(BuildStateMachine)).Select(p => p.Name).Order(StringComparer.Ordinal);

        Assert.Equal(BuildStates.All.Order(StringComparer.Ordinal), states);
    }

    [Fact]
    public async Task Every_typed_column_is_in_the_migrated_table_with_its_type_and_holds_what_the_instance_says()
    {
        var database = await TestServers.CreateDatabaseAsync("columns");
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(database);
            await PostgresMigrator.ApplyAsync(dataSource, typeof(BuildStateTable).Assembly, CancellationToken.None);
            var options = new PostgresSagaRepositoryOptions<BuildState> { TableName = BuildStateTable.Name };
            BuildStateTable.Columns(options);

            var types = new Dictionary<string, string>();
            await using (var command = dataSource.CreateCommand("SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = $1"))
            {
                command.Parameters.AddWithValue(BuildStateTable.Name);
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    types[reader.GetString(0)] = reader.GetString(1);
                }
            }
            foreach (var column in options.Columns)
            {
                Assert.True(types.TryGetValue(column.Name, out var type), $"build_state has no column {column.Name}");
                Assert.Equal(PostgresType(column.Type), type);
            }

            var store = new PostgresSagaStore<BuildState>(options);
            var build = new BuildState
            {
                CorrelationId = NewId.NextGuid(),
                CurrentState = BuildStates.Building,
                SourceRepository = "https://example.org/hello.git",
                TargetArchitecture = "x86_64",
                Toolchain = "rpmbuild",
                Priority = "high",
                SubmittedBy = "alice",
                SubmittedAt = new DateTimeOffset(2026, 12, 3, 14, 0, 0, TimeSpan.FromHours(2)),
                Attempt = 2,
                ServerId = "b1",
                WorkerInstance = Guid.NewGuid(),
                Duration = TimeSpan.FromSeconds(90),
                Branch = "main",
                ExitCode = 3,
                Artifacts = [new Contracts.Artifact("hello.rpm", 42, new string('a', 64), "rpm")],
                History =
                [
                    new BuildTransition(DateTimeOffset.UtcNow.AddMinutes(-2), BuildStates.Queued, 0, null, null),
                    new BuildTransition(DateTimeOffset.UtcNow, BuildStates.Building, 2, "b1", "started"),
                ],
            };
            await using (var session = new PostgresSession(dataSource))
            {
                await session.BeginAsync(CancellationToken.None);
                Assert.True(await store.InsertAsync(session, build, CancellationToken.None));
                build.CurrentState = BuildStates.Completed;
                build.FinishedAt = build.SubmittedAt.AddMinutes(3);
                build.Reason = "done";
                await store.UpdateAsync(session, build, CancellationToken.None);
                await session.CommitAsync(CancellationToken.None);
            }

            await using var read = dataSource.CreateCommand("""
                SELECT current_state, attempt, server_id, priority, submitted_by, submitted_at, architecture, toolchain, repository,
                       requested_server_id, finished_at, worker_instance, duration, reason, version
                  FROM build_state WHERE correlation_id = $1
                """);
            read.Parameters.AddWithValue(build.CorrelationId);
            await using var row = await read.ExecuteReaderAsync();
            Assert.True(await row.ReadAsync());
            Assert.Equal(BuildStates.Completed, row.GetString(0));
            Assert.Equal(2, row.GetInt32(1));
            Assert.Equal("b1", row.GetString(2));
            Assert.Equal("high", row.GetString(3));
            Assert.Equal("alice", row.GetString(4));
            Assert.Equal(build.SubmittedAt, row.GetFieldValue<DateTimeOffset>(5));
            Assert.Equal(("x86_64", "rpmbuild", "https://example.org/hello.git"), (row.GetString(6), row.GetString(7), row.GetString(8)));
            Assert.True(row.IsDBNull(9));
            Assert.Equal(build.FinishedAt, row.GetFieldValue<DateTimeOffset>(10));
            Assert.Equal(build.WorkerInstance, row.GetGuid(11));
            Assert.Equal(TimeSpan.FromSeconds(90), row.GetTimeSpan(12));
            Assert.Equal("done", row.GetString(13));
            Assert.Equal(2, row.GetInt32(14));
            await row.DisposeAsync();

            // The read model other services use: its documented columns, and its JSON with the documented keys.
            await using var view = dataSource.CreateCommand("""
                SELECT build_id, state, attempt, server_id, priority, submitted_by, submitted_at, architecture, toolchain, repository,
                       branch, commit_hash, spec_path, requested_server_id, started_at, finished_at, reason, exit_code, duration,
                       artifacts, history, updated_at
                  FROM build_view WHERE build_id = $1
                """);
            view.Parameters.AddWithValue(build.CorrelationId);
            await using var shown = await view.ExecuteReaderAsync();
            Assert.True(await shown.ReadAsync());
            Assert.Equal((BuildStates.Completed, 2, "b1", "main", 3), (shown.GetString(1), shown.GetInt32(2), shown.GetString(3), shown.GetString(10), shown.GetInt32(17)));
            using var artifacts = System.Text.Json.JsonDocument.Parse(shown.GetString(19));
            var artifact = Assert.Single(artifacts.RootElement.EnumerateArray());
            Assert.Equal(["name", "size", "sha256", "kind"], artifact.EnumerateObject().Select(p => p.Name).OrderBy(n => n == "name" ? 0 : n == "size" ? 1 : n == "sha256" ? 2 : 3));
            Assert.Equal(("hello.rpm", 42L, "rpm"), (artifact.GetProperty("name").GetString(), artifact.GetProperty("size").GetInt64(), artifact.GetProperty("kind").GetString()));
            using var history = System.Text.Json.JsonDocument.Parse(shown.GetString(20));
            Assert.Equal([BuildStates.Queued, BuildStates.Building], history.RootElement.EnumerateArray().Select(h => h.GetProperty("state").GetString()));
            var last = history.RootElement[1];
            Assert.Equal((2, "b1", "started"), (last.GetProperty("attempt").GetInt32(), last.GetProperty("serverId").GetString(), last.GetProperty("reason").GetString()));
            Assert.Equal(build.History[1].At, last.GetProperty("at").GetDateTimeOffset());
        }
        finally
        {
            await TestServers.DropDatabaseAsync(database);
        }
    }

    private static string PostgresType(NpgsqlTypes.NpgsqlDbType type) => type switch
    {
        NpgsqlTypes.NpgsqlDbType.Integer => "int4",
        NpgsqlTypes.NpgsqlDbType.Text => "text",
        NpgsqlTypes.NpgsqlDbType.TimestampTz => "timestamptz",
        NpgsqlTypes.NpgsqlDbType.Uuid => "uuid",
        NpgsqlTypes.NpgsqlDbType.Interval => "interval",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "a type this test does not know"),
    };
}
