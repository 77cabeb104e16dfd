using System.Threading.Channels;
using BuildFarm.Semaphore;
using BuildFarm.Settings.Storage;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildFarm.Settings;

/// <summary>
/// Keeps the Redis semaphore's limit equal to the stored <c>maxConcurrentBuilds</c>. A change is applied at once; when
/// Redis does not answer it is retried in the background until it succeeds or a newer revision replaces it. A revision
/// older than the one applied is ignored, so concurrent writes cannot leave an older limit in force. Every
/// <see cref="SemaphoreLimitSyncOptions.CheckInterval"/>, and as soon as the Redis connection is restored, the limit in
/// Redis is compared with the stored record and set again when it differs: a Redis that lost its data holds no limit,
/// and the semaphore grants nothing until this sets it.
/// </summary>
public sealed partial class SemaphoreLimitSync : BackgroundService
{
    private readonly IFarmSemaphoreAdmin _semaphore;
    private readonly SettingsStore _store;
    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<SemaphoreLimitSync> _logger;
    private readonly TimeSpan _interval;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _appliedRevision;
    private (int Limit, long Revision)? _pending;
    private bool _checkFailing;

    public SemaphoreLimitSync(IFarmSemaphoreAdmin semaphore, SettingsStore store, IConnectionMultiplexer redis,
        IOptions<SemaphoreLimitSyncOptions> options, ILogger<SemaphoreLimitSync> logger)
    {
        _semaphore = semaphore;
        _store = store;
        _redis = redis;
        _logger = logger;
        _interval = options.Value.CheckInterval;
    }

    /// <summary>Sets the limit of <paramref name="revision"/> unless a newer one is in force. False when it is left to the retry.</summary>
    public async Task<bool> ApplyAsync(int limit, long revision, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (revision < _appliedRevision || (_pending is { } pending && revision < pending.Revision))
            {
                return true;
            }
            _pending = (limit, revision);
            if (await TrySetAsync(limit, revision))
            {
                return true;
            }
        }
        finally
        {
            _gate.Release();
        }
        _wake.Writer.TryWrite(true);
        return false;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                using (var timer = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
                {
                    timer.CancelAfter(_interval);
                    try
                    {
                        await _wake.Reader.WaitToReadAsync(timer.Token);
                        _wake.Reader.TryRead(out _);
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                        // The interval passed.
                    }
                }
                if (await RetryPendingAsync(stoppingToken))
                {
                    await CheckAsync(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => _wake.Writer.TryWrite(true);

    /// <summary>Compares the limit in Redis with the stored one and sets it again when they differ.</summary>
    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        StoredSettings stored;
        int? inRedis;
        try
        {
            stored = await _store.GetAsync(cancellationToken);
            inRedis = await _semaphore.GetLimitAsync();
            _checkFailing = false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (!_checkFailing)
            {
                _checkFailing = true;
                LogCheckFailed(ex, _interval.TotalSeconds);
            }
            return;
        }
        if (inRedis != stored.Settings.MaxConcurrentBuilds)
        {
            LogDiffers(inRedis?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none", stored.Settings.MaxConcurrentBuilds, stored.Revision);
            await ApplyAsync(stored.Settings.MaxConcurrentBuilds, stored.Revision, cancellationToken);
        }
    }

    private async Task<bool> RetryPendingAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return _pending is not { } pending || await TrySetAsync(pending.Limit, pending.Revision);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<bool> TrySetAsync(int limit, long revision)
    {
        try
        {
            await _semaphore.SetLimitAsync(limit);
            _appliedRevision = revision;
            _pending = null;
            LogApplied(limit, revision);
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogFailed(ex, limit, revision, _interval.TotalSeconds);
            return false;
        }
    }

    [LoggerMessage(LogLevel.Information, "Build-slot limit set to {Limit} (settings revision {Revision})")]
    private partial void LogApplied(int limit, long revision);

    [LoggerMessage(LogLevel.Error, "Could not set the build-slot limit to {Limit} (settings revision {Revision}); retrying every {DelaySeconds} s")]
    private partial void LogFailed(Exception exception, int limit, long revision, double delaySeconds);

    [LoggerMessage(LogLevel.Warning, "Redis holds the build-slot limit {InRedis}, the settings (revision {Revision}) say {Limit}: setting it again")]
    private partial void LogDiffers(string inRedis, int limit, long revision);

    [LoggerMessage(LogLevel.Warning, "Could not compare the build-slot limit in Redis with the stored settings; trying every {DelaySeconds} s")]
    private partial void LogCheckFailed(Exception exception, double delaySeconds);
}
