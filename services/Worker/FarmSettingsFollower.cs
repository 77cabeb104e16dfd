using BuildFarm.ServiceDefaults;

namespace BuildFarm.Worker;

/// <summary>
/// Applies the settings the Settings service answers at start (<see cref="FarmSettingsBootstrap"/>) to this worker,
/// so a worker that starts after the last change still runs with the farm's current slot wait, build duration and
/// repository cache settings; later changes arrive as SettingsChanged on the worker's own queue.
/// </summary>
public sealed class FarmSettingsFollower(FarmSettingsCache cache, WorkerSettings settings) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        cache.Changed += OnChanged;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        cache.Changed -= OnChanged;
        return Task.CompletedTask;
    }

    private void OnChanged(Contracts.FarmSettings farm) => settings.Apply(farm, cache.Revision);
}
