using System.Reflection;
using BuildFarm.Contracts;
using BuildFarm.Worker.Builds;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BuildFarm.Worker.Heartbeats;

/// <summary>Announces the server at start and every <see cref="WorkerOptions.HeartbeatInterval"/>.</summary>
internal sealed class HeartbeatService(
    IOptions<WorkerOptions> options,
    WorkerCapabilities capabilities,
    BuildRunner runner,
    WorkerInstance instance,
    IBuildEvents events,
    TimeProvider time,
    ILogger<HeartbeatService> logger) : BackgroundService
{
    private static readonly string Version =
        typeof(HeartbeatService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    private readonly HostMetrics _metrics = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        logger.LogInformation("Build server {ServerId} offers {Toolchains} for {Architectures}",
            o.ServerId, string.Join(", ", capabilities.Toolchains), string.Join(", ", capabilities.Architectures));
        if (events is Spool.SpooledBuildEvents spooled)
        {
            // Results an earlier process of this server left in the spool go first: a new process's first heartbeat
            // makes the Scheduler declare that process's unfinished attempts lost.
            try
            {
                await spooled.Spool.Recovered.WaitAsync(TimeSpan.FromSeconds(10), stoppingToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                logger.LogWarning("The spool still holds {Count} messages of an earlier process; heartbeating anyway", spooled.Spool.Pending);
            }
        }
        using var timer = new PeriodicTimer(o.HeartbeatInterval, time);
        do
        {
            if (runner.Stopping)
            {
                return;
            }
            try
            {
                await events.PublishAsync(Beat(o), stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "Heartbeat of {ServerId} was not sent", o.ServerId);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await base.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private BuildServerHeartbeat Beat(WorkerOptions o) => new()
    {
        ServerId = o.ServerId,
        InstanceId = instance.Id,
        Host = Environment.MachineName,
        Architectures = capabilities.Architectures,
        Toolchains = capabilities.Toolchains,
        MaxConcurrentBuilds = o.MaxConcurrentBuilds,
        ActiveBuilds = runner.ActiveBuilds,
        Running = runner.RunningAttempts,
        CpuPercent = _metrics.CpuPercent(),
        MemoryPercent = HostMetrics.MemoryPercent(),
        DiskPercent = HostMetrics.DiskPercent(o.WorkspaceRoot),
        Maintenance = o.Maintenance,
        Version = Version,
        Interval = o.HeartbeatInterval,
        SentAt = time.GetUtcNow(),
    };
}
