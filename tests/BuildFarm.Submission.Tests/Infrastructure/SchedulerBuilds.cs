extern alias scheduler;
using BuildFarm.Persistence;
using BuildFarm.Persistence.Saga;
using Npgsql;
using BuildState = scheduler::BuildFarm.Scheduler.StateMachines.BuildState;
using BuildStateTable = scheduler::BuildFarm.Scheduler.Data.BuildStateTable;
using BuildTransition = scheduler::BuildFarm.Scheduler.StateMachines.BuildTransition;

namespace BuildFarm.Submission.Tests.Infrastructure;

/// <summary>
/// Builds written into the Scheduler's table the way the Scheduler writes them (its saga store, with its typed
/// columns), so that Submission's tests read them only through the Scheduler's read model, as Submission does.
/// </summary>
public static class SchedulerBuilds
{
    private static readonly PostgresSagaStore<BuildState> Store = CreateStore();

    /// <summary>Writes a build; <paramref name="shape"/> fills in what the test needs of it.</summary>
    public static async Task<Guid> AddAsync(NpgsqlDataSource database, string state, Action<BuildState>? shape = null)
    {
        var build = new BuildState
        {
            CorrelationId = Guid.NewGuid(),
            CurrentState = state,
            SourceRepository = "https://example.org/hello.git",
            Branch = "main",
            CommitHash = "0123456789abcdef0123456789abcdef01234567",
            TargetArchitecture = "x86_64",
            Toolchain = "rpmbuild",
            SubmittedAt = DateTimeOffset.UtcNow,
        };
        shape?.Invoke(build);
        await using var session = new PostgresSession(database);
        await session.BeginAsync();
        await Store.InsertAsync(session, build, CancellationToken.None);
        await session.CommitAsync();
        return build.CorrelationId;
    }

    /// <summary>A history entry, as the saga records one.</summary>
    public static BuildTransition Transition(DateTimeOffset at, string state, int attempt, string? serverId, string? reason = null) =>
        new(at, state, attempt, serverId, reason);

    private static PostgresSagaStore<BuildState> CreateStore()
    {
        var options = new PostgresSagaRepositoryOptions<BuildState> { TableName = BuildStateTable.Name };
        BuildStateTable.Columns(options);
        return new PostgresSagaStore<BuildState>(options);
    }
}
