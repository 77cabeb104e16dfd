using System.Linq.Expressions;
using BuildFarm.Contracts;
using FluentValidation;

namespace BuildFarm.Settings.Apis;

/// <summary>The bounds of every setting; each failure names the field (camelCase) and its bound.</summary>
public sealed class FarmSettingsValidator : AbstractValidator<FarmSettings>
{
    /// <summary>The largest farm-wide limit (and per-submitter or per-project cap): a farm of hundreds of servers.</summary>
    public const int MaxBuildsAtOnce = 10_000;

    public FarmSettingsValidator()
    {
        Between(x => x.MaxConcurrentBuilds, 1, MaxBuildsAtOnce);
        Between(x => x.CleanupBuildsAfterDays, 1, 365);
        Between(x => x.CleanupReposAfterDays, 1, 90);
        Between(x => x.SyncIntervalHours, 1, 24);
        Between(x => x.RepositorySyncIntervalMinutes, 5, 1440);
        Between(x => x.MaxQueueSize, 1, 1_000_000);
        Between(x => x.SlotWaitTimeoutSeconds, 10, 3600);
        Between(x => x.MaxBuildMinutes, 1, 1440);
        Between(x => x.MaxRetries, 0, 10);
        Between(x => x.UtilizationThresholdPercent, 10, 100);
        Between(x => x.MaxLogBytesPerAttempt, 64 * 1024, 1024 * 1024 * 1024);
        Between(x => x.MaxRunningPerSubmitter, 0, MaxBuildsAtOnce);
        Between(x => x.MaxRunningPerProject, 0, MaxBuildsAtOnce);
        Between(x => x.MinConcurrentBuilds, 1, MaxBuildsAtOnce);

        var mode = SettingsDocument.FieldName(nameof(FarmSettings.ConcurrencyMode));
        RuleFor(x => x.ConcurrencyMode)
            .Must(m => m is ConcurrencyModes.Fixed or ConcurrencyModes.Auto)
            .OverridePropertyName(mode)
            .WithMessage($"{mode} must be \"{ConcurrencyModes.Fixed}\" or \"{ConcurrencyModes.Auto}\"");

        // Across fields: only once each bound holds by itself, so a field is not named twice for one mistake.
        var min = SettingsDocument.FieldName(nameof(FarmSettings.MinConcurrentBuilds));
        var max = SettingsDocument.FieldName(nameof(FarmSettings.MaxConcurrentBuilds));
        RuleFor(x => x.MinConcurrentBuilds)
            .LessThanOrEqualTo(x => x.MaxConcurrentBuilds)
            .When(x => x.MinConcurrentBuilds is >= 1 and <= MaxBuildsAtOnce && x.MaxConcurrentBuilds is >= 1 and <= MaxBuildsAtOnce)
            .OverridePropertyName(min)
            .WithMessage(x => $"{min} must not be greater than {max} ({x.MaxConcurrentBuilds})");
    }

    private void Between(Expression<Func<FarmSettings, int>> property, int min, int max)
    {
        var name = SettingsDocument.FieldName(((MemberExpression)property.Body).Member.Name);
        RuleFor(property)
            .InclusiveBetween(min, max)
            .OverridePropertyName(name)
            .WithMessage($"{name} must be between {min} and {max}");
    }
}
