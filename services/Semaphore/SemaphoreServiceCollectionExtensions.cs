using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BuildFarm.Semaphore;

public static class SemaphoreServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IFarmSemaphore"/> (a singleton <see cref="RedisFarmSemaphore"/>) with options bound
    /// from the section <c>Semaphore</c> and validated at start. Needs the <c>IConnectionMultiplexer</c>
    /// registered by ServiceDefaults' <c>AddFarmRedis</c>.
    /// </summary>
    public static IServiceCollection AddFarmSemaphore(this IServiceCollection services, Action<FarmSemaphoreOptions>? configure = null)
    {
        var options = services.AddOptions<FarmSemaphoreOptions>()
            .BindConfiguration(FarmSemaphoreOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.TryAddSingleton<RedisFarmSemaphore>();
        services.TryAddSingleton<IFarmSemaphore>(sp => sp.GetRequiredService<RedisFarmSemaphore>());
        return services;
    }
}
