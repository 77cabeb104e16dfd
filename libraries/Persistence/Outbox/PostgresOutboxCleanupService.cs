using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildFarm.Persistence.Outbox;

/// <summary>Deletes old inbox rows and old delivered outbox rows every <see cref="PostgresOutboxOptions.CleanupInterval"/>.</summary>
public sealed partial class PostgresOutboxCleanupService(
    NpgsqlDataSource dataSource,
    IOptions<PostgresOutboxOptions> options,
    ILogger<PostgresOutboxCleanupService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.CleanupInterval <= TimeSpan.Zero)
        {
            return;
        }
        using var timer = new PeriodicTimer(settings.CleanupInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var (inbox, outbox) = await OutboxStore.CleanupAsync(dataSource, settings.InboxRetention, settings.DeliveredRetention, stoppingToken);
                    LogCleaned(inbox, outbox);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    LogCleanupFailed(exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Outbox cleanup removed {Inbox} inbox rows and {Outbox} delivered outbox rows")]
    private partial void LogCleaned(int inbox, int outbox);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox cleanup failed")]
    private partial void LogCleanupFailed(Exception exception);
}
