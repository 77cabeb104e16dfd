using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BuildFarm.ServiceDefaults;

public static class FarmSettingsBootstrapExtensions
{
    /// <summary>
    /// Registers <see cref="FarmSettingsCache"/> (if not yet) and <see cref="FarmSettingsBootstrap"/>, which fills it
    /// from the Settings service at start. Needs the bus (<c>AddFarmBus</c>). Options: section <c>SettingsBootstrap</c>.
    /// </summary>
    public static IServiceCollection AddFarmSettingsBootstrap(this IServiceCollection services, Action<FarmSettingsBootstrapOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(FarmSettingsBootstrap)))
        {
            return services;
        }
        var options = services.AddOptions<FarmSettingsBootstrapOptions>()
            .BindConfiguration(FarmSettingsBootstrapOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.TryAddSingleton<FarmSettingsCache>();
        services.TryAddSingleton<FarmSettingsBootstrap>();
        services.AddHostedService(sp => sp.GetRequiredService<FarmSettingsBootstrap>());
        return services;
    }
}
