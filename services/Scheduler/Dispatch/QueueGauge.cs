using BuildFarm.Contracts;
using Npgsql;

namespace BuildFarm.Scheduler.Dispatch;

/// <summary>How many builds wait: a request that would exceed the farm's maxQueueSize is rejected.</summary>
public interface IQueueGauge
{
    Task<long> QueuedAsync(CancellationToken ct);
}

/// <summary>Counts the queued builds in the saga table.</summary>
public sealed class PostgresQueueGauge(NpgsqlDataSource dataSource) : IQueueGauge
{
    public async Task<long> QueuedAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM build_state WHERE current_state = {Data.BuildStateTable.Literal(BuildStates.Queued)}");
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }
}
