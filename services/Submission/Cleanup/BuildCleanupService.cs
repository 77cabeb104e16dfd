using Microsoft.Extensions.Options;

namespace BuildFarm.Submission.Cleanup;

/// <summary>Runs <see cref="BuildCleaner"/> at start and then every <see cref="BuildCleanupOptions.Interval"/> (on the <see cref="TimeProvider"/>).</summary>
public sealed partial class BuildCleanupService(
    BuildCleaner cleaner,
    TimeProvider time,
    IOptions<BuildCleanupOptions> options,
    ILogger<BuildCleanupService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await cleaner.RunAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogFailed(ex);
                }
                await Task.Delay(options.Value.Interval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    [LoggerMessage(LogLevel.Error, "The build cleanup failed; the next run tries again")]
    private partial void LogFailed(Exception exception);
}
