using BuildFarm.Contracts;
using BuildFarm.Persistence.Saga;
using BuildFarm.Scheduler.StateMachines;
using NpgsqlTypes;

namespace BuildFarm.Scheduler.Data;

/// <summary>
/// The build saga's table, <c>build_state</c>: one row per build, owned by the Scheduler (its migrations). Besides the
/// saga's <c>data</c> (its JSON, read only by the saga repository), every field that is queried is a typed column the
/// repository writes from the instance in the same statement: queries name these columns, never a JSON path, so
/// renaming a <see cref="BuildState"/> property breaks nothing outside the saga (a test compares the columns with the
/// table the migrations made).
/// </summary>
public static class BuildStateTable
{
    public const string Name = "build_state";

    /// <summary>SQL for the states of builds placed on a server: <c>('Dispatched', 'Building', 'Cancelling')</c>.</summary>
    public static readonly string OnAServer = InList(BuildStates.OnAServer);

    /// <summary>SQL for the ended states.</summary>
    public static readonly string Ended = InList(BuildStates.Ended);

    /// <summary>A state as an SQL literal (state names are constants of <see cref="BuildStates"/>, never user text).</summary>
    public static string Literal(string state) =>
        BuildStates.All.Contains(state) ? $"'{state}'" : throw new ArgumentException($"'{state}' is not a build state.", nameof(state));

    private static string InList(IEnumerable<string> states) => "(" + string.Join(", ", states.Select(Literal)) + ")";

    /// <summary>The saga store on this table with these columns, as the Scheduler registers it (for tools and tests without the bus).</summary>
    public static PostgresSagaStore<BuildState> CreateStore()
    {
        var options = new PostgresSagaRepositoryOptions<BuildState> { TableName = Name };
        Columns(options);
        return new PostgresSagaStore<BuildState>(options);
    }

    /// <summary>The typed columns, and what of the instance each holds.</summary>
    public static void Columns(PostgresSagaRepositoryOptions<BuildState> o)
    {
        ArgumentNullException.ThrowIfNull(o);
        o.Column("attempt", NpgsqlDbType.Integer, s => s.Attempt)
            .Column("server_id", NpgsqlDbType.Text, s => s.ServerId)
            .Column("priority", NpgsqlDbType.Text, s => s.Priority)
            .Column("submitted_by", NpgsqlDbType.Text, s => s.SubmittedBy)
            .Column("submitted_at", NpgsqlDbType.TimestampTz, s => s.SubmittedAt)
            .Column("architecture", NpgsqlDbType.Text, s => s.TargetArchitecture)
            .Column("toolchain", NpgsqlDbType.Text, s => s.Toolchain)
            .Column("repository", NpgsqlDbType.Text, s => s.SourceRepository)
            .Column("requested_server_id", NpgsqlDbType.Text, s => s.RequestedServerId)
            .Column("retry_at", NpgsqlDbType.TimestampTz, s => s.RetryAt)
            .Column("dispatched_at", NpgsqlDbType.TimestampTz, s => s.DispatchedAt)
            .Column("started_at", NpgsqlDbType.TimestampTz, s => s.StartedAt)
            .Column("finished_at", NpgsqlDbType.TimestampTz, s => s.FinishedAt)
            .Column("deadline_at", NpgsqlDbType.TimestampTz, s => s.DeadlineAt)
            .Column("worker_instance", NpgsqlDbType.Uuid, s => s.WorkerInstance)
            .Column("duration", NpgsqlDbType.Interval, s => s.Duration)
            .Column("reason", NpgsqlDbType.Text, s => s.Reason);
    }
}
