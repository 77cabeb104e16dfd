using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Sources;

/// <summary>
/// Keeps the repository cache fresh and small: at start it removes mirrors unused for longer than
/// <see cref="WorkerSettings.CleanupReposAfter"/>, then every <see cref="WorkerSettings.RepositorySyncInterval"/>
/// it refreshes the mirrors used within that time and removes the others. Both settings are read again at
/// least once a minute, so a SettingsChanged takes effect without a restart.
/// </summary>
internal sealed class RepositoryCacheMaintenance(
    RepositoryCache cache,
    WorkerSettings settings,
    TimeProvider time,
    ILogger<RepositoryCacheMaintenance> logger) : BackgroundService
{
    /// <summary>The longest wait before the interval is read again.</summary>
    public static readonly TimeSpan RecheckEvery = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        await PassAsync(sync: false, stoppingToken).ConfigureAwait(false);
        var last = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            var wait = last + settings.RepositorySyncInterval - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait < RecheckEvery ? wait : RecheckEvery, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            await PassAsync(sync: true, stoppingToken).ConfigureAwait(false);
            last = time.GetUtcNow();
        }
    }

    private async Task PassAsync(bool sync, CancellationToken stoppingToken)
    {
        try
        {
            var refreshed = sync ? await cache.SyncAsync(stoppingToken).ConfigureAwait(false) : 0;
            var removed = await cache.CleanUpAsync(stoppingToken).ConfigureAwait(false);
            if (refreshed > 0 || removed > 0)
            {
                logger.LogInformation("Repository cache: {Refreshed} mirrors refreshed, {Removed} removed", refreshed, removed);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "The repository cache pass failed; trying again at the next interval");
        }
    }
}
