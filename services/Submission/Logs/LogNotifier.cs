using System.Collections.Concurrent;
using Npgsql;

namespace BuildFarm.Submission.Logs;

/// <summary>
/// Wakes live log followers the moment a batch of their build's log is stored (PostgreSQL LISTEN on the
/// channel the log store notifies), whichever Submission instance stored it.
/// </summary>
public sealed class LogNotifier(NpgsqlDataSource dataSource, ILogger<LogNotifier> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> waiters = new();

    /// <summary>Completes when a new batch for <paramref name="buildId"/> is stored, or after <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(Guid buildId, TimeSpan timeout, CancellationToken ct)
    {
        var signal = waiters.GetOrAdd(buildId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            await signal.Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (Guid.TryParse(e.Payload, out var id) && waiters.TryRemove(id, out var signal))
                    {
                        signal.TrySetResult();
                    }
                };
                await using (var listen = new NpgsqlCommand("LISTEN build_log", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (NpgsqlException ex)
            {
                logger.LogWarning(ex, "Lost the log notification connection; followers fall back to their timeout until it is back");
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }
}
