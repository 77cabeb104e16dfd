using BuildFarm.Contracts;
using Npgsql;

namespace BuildFarm.Settings;

/// <summary>
/// The farm-wide limit of <see cref="ConcurrencyModes.Auto"/> mode, from the build servers' measured load as the
/// Scheduler's read model <c>build_server_view</c> shows it (its shape is documented in
/// services/Scheduler/Migrations/0007_read_model.sql). The rule, over the servers that are online:
/// <list type="bullet">
/// <item>every build running on one counts (the larger of what the server reported and what the Scheduler has on it);</item>
/// <item>a server out of maintenance whose CPU, memory and disk are all below <c>utilizationThresholdPercent</c> (or any
/// server when the threshold is 100, as placement does) adds its free slots (capacity minus running, not below 0);</item>
/// <item>the sum is clamped to [<c>minConcurrentBuilds</c>, <c>maxConcurrentBuilds</c>].</item>
/// </list>
/// So the limit is what the healthy servers can take now plus what already runs: it shrinks while servers are busy,
/// in maintenance or gone, and grows back as they recover, never outside the configured bounds.
/// </summary>
public sealed class AutoConcurrencyLimit(NpgsqlDataSource dataSource)
{
    private const string Sql = """
        SELECT COALESCE(sum(running
                 + CASE WHEN NOT maintenance AND ($1 >= 100 OR (cpu_percent < $1 AND memory_percent < $1 AND disk_percent < $1))
                        THEN GREATEST(max_concurrent - running, 0) ELSE 0 END), 0)::bigint
          FROM (SELECT maintenance, cpu_percent, memory_percent, disk_percent, max_concurrent,
                       GREATEST(active_builds, assigned_builds) AS running
                  FROM build_server_view
                 WHERE online) AS server
        """;

    /// <summary>The limit the servers' load calls for now, within the bounds of <paramref name="settings"/>.</summary>
    public async Task<int> ComputeAsync(FarmSettings settings, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(Sql);
        command.Parameters.Add(new NpgsqlParameter<float> { TypedValue = settings.UtilizationThresholdPercent });
        var room = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        return Clamp(room, settings);
    }

    /// <summary><paramref name="limit"/> within [<c>minConcurrentBuilds</c>, <c>maxConcurrentBuilds</c>].</summary>
    public static int Clamp(long limit, FarmSettings settings) =>
        (int)Math.Clamp(limit, settings.MinConcurrentBuilds, Math.Max(settings.MinConcurrentBuilds, settings.MaxConcurrentBuilds));
}
