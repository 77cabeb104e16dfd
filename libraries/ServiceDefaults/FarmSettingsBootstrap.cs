using BuildFarm.Contracts;
using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace BuildFarm.ServiceDefaults;

/// <summary>
/// Once the host has started (the bus included), asks the Settings service for the farm's settings
/// (<see cref="GetFarmSettings"/>, answered with <see cref="SettingsChanged"/>) and applies the answer to
/// <see cref="FarmSettingsCache"/>. While Settings does not answer it retries in the background a few times,
/// then logs and keeps the defaults; a later broadcast still updates the cache.
/// </summary>
public sealed partial class FarmSettingsBootstrap(
    IClientFactory clients,
    FarmSettingsCache cache,
    IHostApplicationLifetime lifetime,
    IOptions<FarmSettingsBootstrapOptions> options,
    ILogger<FarmSettingsBootstrap> logger) : BackgroundService
{
    private readonly TaskCompletionSource<bool> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with true once an answer was applied, false once every attempt failed.</summary>
    public Task<bool> Completion => _done.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await WaitForStartAsync(stoppingToken);
            _done.TrySetResult(await FetchAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            _done.TrySetResult(false);
        }
    }

    private async Task WaitForStartAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(stoppingToken);
    }

    private async Task<bool> FetchAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var client = clients.CreateRequestClient<GetFarmSettings>(RequestTimeout.After(ms: (int)settings.Timeout.TotalMilliseconds));
        try
        {
            var response = await Retry(settings).ExecuteAsync(
                async ct => await client.GetResponse<SettingsChanged>(new GetFarmSettings(), ct), stoppingToken);
            var applied = cache.Apply(response.Message.Settings, response.Message.Revision);
            LogApplied(response.Message.Revision, applied);
            return true;
        }
        catch (MassTransitException ex) when (!stoppingToken.IsCancellationRequested)
        {
            LogGaveUp(ex, settings.Attempts);
            return false;
        }
    }

    /// <summary><see cref="FarmSettingsBootstrapOptions.Attempts"/> requests in all, the pause after a failed one doubling from <see cref="FarmSettingsBootstrapOptions.RetryDelay"/>.</summary>
    private ResiliencePipeline Retry(FarmSettingsBootstrapOptions settings) => settings.Attempts <= 1
        ? ResiliencePipeline.Empty
        : new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<MassTransitException>(),
                MaxRetryAttempts = settings.Attempts - 1,
                Delay = settings.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                OnRetry = args =>
                {
                    LogRetrying(args.AttemptNumber + 1, settings.Attempts, args.RetryDelay.TotalSeconds, args.Outcome.Exception?.Message ?? "");
                    return default;
                },
            })
            .Build();

    [LoggerMessage(LogLevel.Information, "Farm settings revision {Revision} fetched from the Settings service (applied: {Applied})")]
    private partial void LogApplied(long revision, bool applied);

    [LoggerMessage(LogLevel.Warning, "The Settings service did not answer (attempt {Attempt} of {Attempts}); asking again in {DelaySeconds} s: {Reason}")]
    private partial void LogRetrying(int attempt, int attempts, double delaySeconds, string reason);

    [LoggerMessage(LogLevel.Warning, "The Settings service did not answer after {Attempts} attempts; keeping the default settings until a SettingsChanged broadcast arrives")]
    private partial void LogGaveUp(Exception exception, int attempts);
}
