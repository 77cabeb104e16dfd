using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BuildFarm.Semaphore;

public static class SemaphoreServiceCollectionExtensions
{
    /// <summary>
    /// For a build server: registers <see cref="IFarmSemaphore"/> (a singleton <see cref="RedisFarmSemaphore"/>) with
    /// options bound from the section <c>Semaphore</c> and validated at start. Needs the <c>IConnectionMultiplexer</c>
    /// registered by ServiceDefaults' <c>AddFarmRedis</c>.
    /// </summary>
    public static IServiceCollection AddFarmSemaphore(this IServiceCollection services, Action<FarmSemaphoreOptions>? configure = null)
    {
        AddOptions(services, configure);
        services.TryAddSingleton<RedisFarmSemaphore>();
        services.TryAddSingleton<IFarmSemaphore>(sp => sp.GetRequiredService<RedisFarmSemaphore>());
        return services;
    }

    /// <summary>
    /// For the service that administers the semaphore (Settings): registers <see cref="IFarmSemaphoreAdmin"/> (a singleton
    /// <see cref="RedisFarmSemaphoreAdmin"/>) with the same options as <see cref="AddFarmSemaphore"/>.
    /// </summary>
    public static IServiceCollection AddFarmSemaphoreAdmin(this IServiceCollection services, Action<FarmSemaphoreOptions>? configure = null)
    {
        AddOptions(services, configure);
        services.TryAddSingleton<IFarmSemaphoreAdmin, RedisFarmSemaphoreAdmin>();
        return services;
    }

    private static void AddOptions(IServiceCollection services, Action<FarmSemaphoreOptions>? configure)
    {
        var options = services.AddOptions<FarmSemaphoreOptions>()
            .BindConfiguration(FarmSemaphoreOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }
    }
}
