using BuildFarm.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BuildFarm.Submission.Cleanup;

public static class BuildCleanupExtensions
{
    /// <summary>
    /// The build cleanup: <see cref="BuildCleanupStore"/> (CleanedAtAsync for GET /api/v1/builds/{id}),
    /// <see cref="BuildCleaner"/> and the hourly <see cref="BuildCleanupService"/>, options of section "Cleanup".
    /// Relies on what AddSubmission registers: the NpgsqlDataSource and migrations (Migrations/0003_cleanup.sql),
    /// ArtifactStore, TimeProvider; and FarmSettingsCache (added here if missing).
    /// </summary>
    public static IHostApplicationBuilder AddBuildCleanup(this IHostApplicationBuilder builder)
    {
        builder.Services.AddBuildCleanup();
        return builder;
    }

    /// <summary>The same as <see cref="AddBuildCleanup(IHostApplicationBuilder)"/> on a service collection.</summary>
    public static IServiceCollection AddBuildCleanup(this IServiceCollection services)
    {
        services.AddOptions<BuildCleanupOptions>().BindConfiguration(BuildCleanupOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<FarmSettingsCache>();
        services.TryAddSingleton<BuildCleanupStore>();
        services.TryAddSingleton<BuildCleaner>();
        services.AddHostedService<BuildCleanupService>();
        return services;
    }
}
