using BuildFarm.Contracts;
using BuildFarm.Scheduler.Consumers;
using MassTransit;
using Microsoft.Extensions.Options;

namespace BuildFarm.Scheduler.Monitoring;

/// <summary>
/// Sends a <see cref="BusProbe"/> to the heartbeat queue once a monitor interval, so that the deadline monitor can tell
/// a build server that stopped sending heartbeats from heartbeats that are not coming through (broker away, database
/// away, every Scheduler down): see <see cref="DeadlineMonitor"/>.
/// </summary>
public sealed class BusProbeSender(IBus bus, IOptions<SchedulerOptions> options, TimeProvider time, IHostApplicationLifetime lifetime,
    ILogger<BusProbeSender> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }
        var interval = options.Value.MonitorInterval;
        var failing = false;
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                timeout.CancelAfter(interval * 5);
                var endpoint = await bus.GetSendEndpoint(new Uri($"queue:{RecordHeartbeatConsumer.Queue}"));
                await endpoint.Send(new BusProbe { ProbeId = NewId.NextGuid(), SentAt = time.GetUtcNow() }, timeout.Token);
                if (failing)
                {
                    logger.LogInformation("Bus probes are sent again");
                    failing = false;
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The broker is away: no probe goes through, so no build server is judged until it is back.
                if (!failing)
                {
                    logger.LogWarning(ex, "A bus probe could not be sent; build servers are not judged lost until probes come through again");
                    failing = true;
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
