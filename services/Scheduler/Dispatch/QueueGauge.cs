using BuildFarm.Contracts;
using BuildFarm.ServiceDefaults;
using Npgsql;

namespace BuildFarm.Scheduler.Dispatch;

/// <summary>How many builds wait: a request that would exceed the farm's maxQueueSize is rejected.</summary>
public interface IQueueGauge
{
    Task<long> QueuedAsync(CancellationToken ct);
}

/// <summary>Counts the queued builds in the saga table (a long queue not at every request: <see cref="QueueLengthCache"/>).</summary>
public sealed class PostgresQueueGauge(NpgsqlDataSource dataSource, FarmSettingsCache settings, QueueLengthCache cache) : IQueueGauge
{
    public Task<long> QueuedAsync(CancellationToken ct) => cache.LengthAsync(settings.Current.MaxQueueSize, CountAsync, ct);

    private async Task<long> CountAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM build_state WHERE current_state = {Data.BuildStateTable.Literal(BuildStates.Queued)}");
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }
}
