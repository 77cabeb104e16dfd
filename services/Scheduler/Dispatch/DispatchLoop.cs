using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildFarm.Scheduler.Dispatch;

/// <summary>
/// Runs a dispatch pass whenever something pokes <see cref="DispatchSignal"/>, when a retry backoff ends,
/// and as a safety net every few monitor intervals.
/// </summary>
public sealed class DispatchLoop(
    Dispatcher dispatcher,
    DispatchSignal signal,
    IOptions<SchedulerOptions> options,
    TimeProvider time,
    ILogger<DispatchLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var safety = options.Value.MonitorInterval * 5;
        var wait = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await signal.WaitAsync(wait, stoppingToken);
                var result = await dispatcher.RunPassAsync(stoppingToken);
                wait = safety;
                if (result.NextRetryAt is { } next)
                {
                    var untilRetry = next - time.GetUtcNow();
                    wait = untilRetry < wait ? (untilRetry < TimeSpan.Zero ? TimeSpan.Zero : untilRetry) : wait;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                logger.LogError(ex, "Dispatch pass failed; trying again shortly");
                wait = options.Value.MonitorInterval;
            }
        }
    }
}
