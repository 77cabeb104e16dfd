using System.Linq.Expressions;
using BuildFarm.Contracts;
using FluentValidation;

namespace BuildFarm.Settings.Apis;

/// <summary>The bounds of every setting; each failure names the field (camelCase) and its bound.</summary>
public sealed class FarmSettingsValidator : AbstractValidator<FarmSettings>
{
    public FarmSettingsValidator()
    {
        Between(x => x.MaxConcurrentBuilds, 1, 20);
        Between(x => x.CleanupBuildsAfterDays, 1, 365);
        Between(x => x.CleanupReposAfterDays, 1, 90);
        Between(x => x.SyncIntervalHours, 1, 24);
        Between(x => x.RepositorySyncIntervalMinutes, 5, 1440);
        Between(x => x.MaxQueueSize, 1, 100_000);
        Between(x => x.SlotWaitTimeoutSeconds, 10, 3600);
        Between(x => x.MaxBuildMinutes, 1, 1440);
        Between(x => x.MaxRetries, 0, 10);
        Between(x => x.UtilizationThresholdPercent, 10, 100);
        Between(x => x.MaxLogBytesPerAttempt, 64 * 1024, 1024 * 1024 * 1024);
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
