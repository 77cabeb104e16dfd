using BuildFarm.Contracts;
using Microsoft.Extensions.Options;

namespace BuildFarm.Worker;

/// <summary>The farm settings a worker applies at run time, first from its options, then from SettingsChanged.</summary>
public sealed class WorkerSettings(IOptions<WorkerOptions> options)
{
    private readonly Lock _gate = new();
    private long _revision = long.MinValue;
    private int _slotWaitTimeoutSeconds = options.Value.SlotWaitTimeoutSeconds;
    private int _maxBuildMinutes = options.Value.MaxBuildMinutes;
    private int _cleanupReposAfterDays = options.Value.CleanupReposAfterDays;
    private int _repositorySyncIntervalMinutes = options.Value.RepositorySyncIntervalMinutes;

    public TimeSpan SlotWaitTimeout => TimeSpan.FromSeconds(Volatile.Read(ref _slotWaitTimeoutSeconds));

    public int MaxBuildMinutes => Volatile.Read(ref _maxBuildMinutes);

    /// <summary>A cached repository mirror unused for longer than this is removed (<c>cleanupReposAfterDays</c>).</summary>
    public TimeSpan CleanupReposAfter => TimeSpan.FromDays(Volatile.Read(ref _cleanupReposAfterDays));

    /// <summary>How often the cached mirrors are refreshed (<c>repositorySyncIntervalMinutes</c>).</summary>
    public TimeSpan RepositorySyncInterval => TimeSpan.FromMinutes(Volatile.Read(ref _repositorySyncIntervalMinutes));

    /// <summary>Applies settings unless a later revision was applied already; returns whether it applied them.</summary>
    public bool Apply(FarmSettings settings, long revision)
    {
        lock (_gate)
        {
            if (revision < _revision)
            {
                return false;
            }
            _revision = revision;
            if (settings.SlotWaitTimeoutSeconds > 0)
            {
                Volatile.Write(ref _slotWaitTimeoutSeconds, settings.SlotWaitTimeoutSeconds);
            }
            if (settings.MaxBuildMinutes > 0)
            {
                Volatile.Write(ref _maxBuildMinutes, settings.MaxBuildMinutes);
            }
            if (settings.CleanupReposAfterDays > 0)
            {
                Volatile.Write(ref _cleanupReposAfterDays, settings.CleanupReposAfterDays);
            }
            if (settings.RepositorySyncIntervalMinutes > 0)
            {
                Volatile.Write(ref _repositorySyncIntervalMinutes, settings.RepositorySyncIntervalMinutes);
            }
            return true;
        }
    }
}
