using System.Threading.Channels;
using BuildFarm.Semaphore;
using StackExchange.Redis;

namespace BuildFarm.Settings;

/// <summary>
/// Keeps the Redis semaphore's limit equal to the stored <c>maxConcurrentBuilds</c>. A change is applied at once; when
/// Redis does not answer it is retried in the background until it succeeds or a newer revision replaces it. A revision
/// older than the one applied is ignored, so concurrent writes cannot leave an older limit in force.
/// </summary>
public sealed partial class SemaphoreLimitSync(IFarmSemaphore semaphore, ILogger<SemaphoreLimitSync> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _appliedRevision;
    private (int Limit, long Revision)? _pending;

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
        try
        {
            while (await _wake.Reader.WaitToReadAsync(stoppingToken))
            {
                _wake.Reader.TryRead(out _);
                while (!await RetryPendingAsync(stoppingToken))
                {
                    await Task.Delay(RetryDelay, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
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
            await semaphore.SetLimitAsync(limit);
            _appliedRevision = revision;
            _pending = null;
            LogApplied(limit, revision);
            return true;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogFailed(ex, limit, revision, RetryDelay.TotalSeconds);
            return false;
        }
    }

    [LoggerMessage(LogLevel.Information, "Build-slot limit set to {Limit} (settings revision {Revision})")]
    private partial void LogApplied(int limit, long revision);

    [LoggerMessage(LogLevel.Error, "Could not set the build-slot limit to {Limit} (settings revision {Revision}); retrying every {DelaySeconds} s")]
    private partial void LogFailed(Exception exception, int limit, long revision, double delaySeconds);
}
