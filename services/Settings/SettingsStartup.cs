using BuildFarm.Persistence.Outbox;
using BuildFarm.Settings.Storage;

namespace BuildFarm.Settings;

/// <summary>
/// At start (after the migrations): inserts the default record if there is none, publishes the stored settings once
/// (through the outbox) so services that started earlier converge, and sets the semaphore's limit from them (in auto
/// mode, from the servers' load).
/// </summary>
public sealed partial class SettingsStartup(
    IServiceScopeFactory scopes,
    SettingsStore store,
    SemaphoreLimitSync limit,
    TimeProvider time,
    ILogger<SettingsStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        StoredSettings current;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var outbox = scope.ServiceProvider.GetRequiredService<PostgresOutbox>();
            await outbox.BeginAsync(cancellationToken);
            await store.SeedAsync(outbox.Session, time.GetUtcNow(), cancellationToken);
            current = await store.LockAsync(outbox.Session, cancellationToken);
            await outbox.PublishAsync(current.ToMessage(), cancellationToken);
            await outbox.CommitAsync(cancellationToken);
        }
        LogStarted(current.Revision, current.Settings.MaxConcurrentBuilds);
        await limit.ApplyAsync(current, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(LogLevel.Information, "Farm settings at revision {Revision} (max concurrent builds {MaxConcurrentBuilds}) published")]
    private partial void LogStarted(long revision, int maxConcurrentBuilds);
}
