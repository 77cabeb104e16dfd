using System.Globalization;
using System.Threading.Channels;
using BuildFarm.Contracts;
using BuildFarm.Persistence.Outbox;
using BuildFarm.Semaphore;
using BuildFarm.Settings.Storage;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.Retry;
using StackExchange.Redis;

namespace BuildFarm.Settings;

/// <summary>
/// Keeps the Redis semaphore's limit equal to the one the stored settings call for: <c>maxConcurrentBuilds</c> in
/// <see cref="ConcurrencyModes.Fixed"/> mode, the servers' load within [<c>minConcurrentBuilds</c>,
/// <c>maxConcurrentBuilds</c>] in <see cref="ConcurrencyModes.Auto"/> mode (<see cref="AutoConcurrencyLimit"/>). A written
/// change is applied at once; a revision older than the one applied is ignored, so concurrent writes cannot leave an
/// older limit in force. Every <see cref="SemaphoreLimitSyncOptions.CheckInterval"/>, and as soon as the Redis connection
/// is restored, the limit in Redis is compared with the one called for and set again when it differs: a Redis that lost
/// its data holds no limit, and the semaphore grants nothing until this sets it. When Redis or PostgreSQL does not
/// answer, a retry pipeline tries again every check interval (at once when the Redis connection comes back) until it
/// succeeds, each time with the newest stored revision. In auto mode a change of the limit is announced with
/// <see cref="ConcurrencyLimitChanged"/> (through the outbox), as <see cref="SettingsWriter"/> announces it in fixed mode.
/// </summary>
public sealed partial class SemaphoreLimitSync : BackgroundService
{
    private readonly IFarmSemaphoreAdmin _semaphore;
    private readonly SettingsStore _store;
    private readonly AutoConcurrencyLimit _auto;
    private readonly IServiceScopeFactory _scopes;
    private readonly IConnectionMultiplexer _redis;
    private readonly TimeProvider _time;
    private readonly ILogger<SemaphoreLimitSync> _logger;
    private readonly TimeSpan _interval;
    private readonly ResiliencePipeline _retry;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _appliedRevision;
    private int _appliedLimitValue = -1;
    private (int Old, int New, long Revision)? _unannounced;
    private bool _loadUnreadable;

    public SemaphoreLimitSync(IFarmSemaphoreAdmin semaphore, SettingsStore store, AutoConcurrencyLimit auto, IServiceScopeFactory scopes,
        IConnectionMultiplexer redis, TimeProvider time, IOptions<SemaphoreLimitSyncOptions> options, ILogger<SemaphoreLimitSync> logger)
    {
        _semaphore = semaphore;
        _store = store;
        _auto = auto;
        _scopes = scopes;
        _redis = redis;
        _time = time;
        _logger = logger;
        _interval = options.Value.CheckInterval;
        _retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                // Anything but stopping: the background check must outlive whatever Redis or PostgreSQL answers.
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
                MaxRetryAttempts = int.MaxValue,
                // The check interval, cut short when the Redis connection comes back.
                DelayGenerator = async args =>
                {
                    await WaitAsync(args.Context.CancellationToken);
                    return TimeSpan.Zero;
                },
                OnRetry = args =>
                {
                    if (args.AttemptNumber == 0)
                    {
                        LogFailed(args.Outcome.Exception!, _interval.TotalSeconds);
                    }
                    return default;
                },
            })
            .Build();
    }

    /// <summary>The limit this process last set or found in Redis (null before the first); in auto mode, the computed one.</summary>
    public int? AppliedLimit => Volatile.Read(ref _appliedLimitValue) is var limit and >= 0 ? limit : null;

    /// <summary>Sets the limit <paramref name="stored"/> calls for unless a newer revision is in force. False when it is left to the retry.</summary>
    public async Task<bool> ApplyAsync(StoredSettings stored, CancellationToken cancellationToken = default)
    {
        try
        {
            await SyncAsync(stored, cancellationToken);
            return true;
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            LogFailed(ex, _interval.TotalSeconds);
            _wake.Writer.TryWrite(true);
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await WaitAsync(stoppingToken);
                await _retry.ExecuteAsync(async ct => await SyncAsync(null, ct), stoppingToken);
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

    /// <summary>Waits one check interval, or less when woken (a failed change, the Redis connection restored).</summary>
    private async Task WaitAsync(CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(_interval);
        try
        {
            await _wake.Reader.WaitToReadAsync(timer.Token);
            _wake.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The interval passed.
        }
    }

    /// <summary>
    /// Compares the limit in Redis with the one <paramref name="given"/> (or else the stored record) calls for, sets it
    /// when they differ and, in auto mode, announces the change. Throws what <see cref="IsTransient"/> accepts.
    /// </summary>
    private async Task SyncAsync(StoredSettings? given, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var stored = given ?? await _store.GetAsync(cancellationToken);
            if (stored.Revision < _appliedRevision)
            {
                return;
            }
            var settings = stored.Settings;
            var auto = settings.ConcurrencyMode == ConcurrencyModes.Auto;
            var inRedis = await _semaphore.GetLimitAsync();
            var limit = auto ? await AutoLimitAsync(settings, inRedis, cancellationToken) : settings.MaxConcurrentBuilds;
            if (inRedis != limit)
            {
                if (given is null && !auto)
                {
                    LogDiffers(inRedis?.ToString(CultureInfo.InvariantCulture) ?? "none", limit, stored.Revision);
                }
                await _semaphore.SetLimitAsync(limit);
                LogApplied(limit, settings.ConcurrencyMode, stored.Revision);
                if (auto)
                {
                    _unannounced = (_unannounced?.Old ?? inRedis ?? AppliedLimit ?? 0, limit, stored.Revision);
                }
            }
            _appliedRevision = stored.Revision;
            Volatile.Write(ref _appliedLimitValue, limit);
            if (!auto)
            {
                _unannounced = null; // the writer announces fixed limits
            }
            else if (_unannounced is { } change)
            {
                if (change.Old != change.New)
                {
                    await AnnounceAsync(change.Old, change.New, stored.Revision, cancellationToken);
                }
                _unannounced = null;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The limit the servers' load calls for; while it cannot be read (the Scheduler has not made its read model yet,
    /// PostgreSQL is away) the limit stays where it is, within the bounds, or at the lower bound when Redis holds none.
    /// </summary>
    private async Task<int> AutoLimitAsync(FarmSettings settings, int? inRedis, CancellationToken cancellationToken)
    {
        try
        {
            var limit = await _auto.ComputeAsync(settings, cancellationToken);
            _loadUnreadable = false;
            return limit;
        }
        catch (NpgsqlException ex)
        {
            if (!_loadUnreadable)
            {
                _loadUnreadable = true;
                LogLoadUnreadable(ex);
            }
            return AutoConcurrencyLimit.Clamp(inRedis ?? AppliedLimit ?? settings.MinConcurrentBuilds, settings);
        }
    }

    private async Task AnnounceAsync(int oldLimit, int newLimit, long revision, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var outbox = scope.ServiceProvider.GetRequiredService<PostgresOutbox>();
        await outbox.BeginAsync(cancellationToken);
        await outbox.PublishAsync(new ConcurrencyLimitChanged
        {
            OldLimit = oldLimit,
            NewLimit = newLimit,
            Revision = revision,
            ChangedAt = _time.GetUtcNow(),
        }, cancellationToken);
        await outbox.CommitAsync(cancellationToken);
    }

    private static bool IsTransient(Exception ex) =>
        ex is RedisException or TimeoutException or ObjectDisposedException or NpgsqlException;

    [LoggerMessage(LogLevel.Information, "Build-slot limit set to {Limit} ({Mode}, settings revision {Revision})")]
    private partial void LogApplied(int limit, string mode, long revision);

    [LoggerMessage(LogLevel.Error, "Could not bring the build-slot limit in Redis in line with the settings; retrying every {DelaySeconds} s")]
    private partial void LogFailed(Exception exception, double delaySeconds);

    [LoggerMessage(LogLevel.Warning, "Redis holds the build-slot limit {InRedis}, the settings (revision {Revision}) say {Limit}: setting it again")]
    private partial void LogDiffers(string inRedis, int limit, long revision);

    [LoggerMessage(LogLevel.Warning, "Could not read the build servers' load (build_server_view); the automatic build-slot limit stays where it is until it can")]
    private partial void LogLoadUnreadable(Exception exception);
}
