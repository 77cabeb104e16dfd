using BuildFarm.Contracts;
using BuildFarm.Persistence.Outbox;
using FluentValidation;

namespace BuildFarm.Settings.Storage;

/// <summary>
/// Changes the settings record: in one transaction it locks the record, checks the caller's precondition, validates
/// the new values, stores them with the next revision, appends the audit entry and publishes <see cref="SettingsChanged"/>
/// (and, in fixed mode, <see cref="ConcurrencyLimitChanged"/> when the limit in force changes) through the outbox; after
/// the commit it sets the semaphore's limit.
/// </summary>
public sealed class SettingsWriter(
    PostgresOutbox outbox,
    SettingsStore store,
    IValidator<FarmSettings> validator,
    SemaphoreLimitSync limit,
    TimeProvider time)
{
    /// <param name="precondition">True when the current record may be changed (If-Match); checked under the lock.</param>
    /// <param name="change">The new values computed from the current ones.</param>
    /// <param name="who">The token's subject, kept in the audit trail.</param>
    public async Task<SettingsWriteResult> WriteAsync(
        Func<StoredSettings, bool> precondition,
        Func<FarmSettings, FarmSettings> change,
        string who,
        CancellationToken cancellationToken)
    {
        await outbox.BeginAsync(cancellationToken);
        var current = await store.LockAsync(outbox.Session, cancellationToken);
        if (!precondition(current))
        {
            await outbox.RollbackAsync();
            return new SettingsWriteResult.Stale(current);
        }
        var settings = change(current.Settings);
        var validation = await validator.ValidateAsync(settings, cancellationToken);
        if (!validation.IsValid)
        {
            await outbox.RollbackAsync();
            return new SettingsWriteResult.Invalid(validation.ToDictionary());
        }
        if (settings == current.Settings)
        {
            await outbox.RollbackAsync();
            return new SettingsWriteResult.Written(current, Changed: false);
        }

        var next = new StoredSettings(settings, current.Revision + 1, who, time.GetUtcNow());
        await store.UpdateAsync(outbox.Session, current, next, cancellationToken);
        await outbox.PublishAsync(next.ToMessage(), cancellationToken);
        // In fixed mode the limit is maxConcurrentBuilds and announced here; in auto mode SemaphoreLimitSync computes and announces it.
        var limitBefore = current.Settings.ConcurrencyMode == ConcurrencyModes.Auto
            ? limit.AppliedLimit ?? current.Settings.MaxConcurrentBuilds
            : current.Settings.MaxConcurrentBuilds;
        if (settings.ConcurrencyMode == ConcurrencyModes.Fixed && settings.MaxConcurrentBuilds != limitBefore)
        {
            await outbox.PublishAsync(new ConcurrencyLimitChanged
            {
                OldLimit = limitBefore,
                NewLimit = settings.MaxConcurrentBuilds,
                Revision = next.Revision,
                ChangedAt = next.UpdatedAt,
            }, cancellationToken);
        }
        await outbox.CommitAsync(cancellationToken);
        await limit.ApplyAsync(next, CancellationToken.None);
        return new SettingsWriteResult.Written(next, Changed: true);
    }
}
