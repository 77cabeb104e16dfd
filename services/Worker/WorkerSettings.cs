using BuildFarm.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BuildFarm.Worker;

/// <summary>
/// The farm settings a worker applies at run time, read from the process's one <see cref="FarmSettingsCache"/> (filled
/// at start and by every SettingsChanged): the worker's own options until the cache has received a revision, and in
/// place of a value that is not positive.
/// </summary>
public sealed class WorkerSettings(FarmSettingsCache cache, IOptions<WorkerOptions> options)
{
    public TimeSpan SlotWaitTimeout => TimeSpan.FromSeconds(Pick(cache.Current.SlotWaitTimeoutSeconds, options.Value.SlotWaitTimeoutSeconds));

    public int MaxBuildMinutes => Pick(cache.Current.MaxBuildMinutes, options.Value.MaxBuildMinutes);

    /// <summary>A cached repository mirror unused for longer than this is removed (<c>cleanupReposAfterDays</c>).</summary>
    public TimeSpan CleanupReposAfter => TimeSpan.FromDays(Pick(cache.Current.CleanupReposAfterDays, options.Value.CleanupReposAfterDays));

    /// <summary>How often the cached mirrors are refreshed (<c>repositorySyncIntervalMinutes</c>).</summary>
    public TimeSpan RepositorySyncInterval =>
        TimeSpan.FromMinutes(Pick(cache.Current.RepositorySyncIntervalMinutes, options.Value.RepositorySyncIntervalMinutes));

    private int Pick(int farm, int own) => cache.HasReceived && farm > 0 ? farm : own;
}
