using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BuildFarm.ServiceDefaults;

/// <summary>How a service keeps its one <see cref="FarmSettingsCache"/>: filled at start, then kept current.</summary>
public static class FarmSettingsExtensions
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

    /// <summary>
    /// Keeps this process's <see cref="FarmSettingsCache"/> current: <see cref="ApplySettingsConsumer"/> on a queue of
    /// this process's own (deleted when it stops), so every process hears every <see cref="Contracts.SettingsChanged"/>.
    /// (A Worker configures the same consumer on its server's queue instead.)
    /// </summary>
    public static IBusRegistrationConfigurator AddFarmSettingsListener(this IBusRegistrationConfigurator x)
    {
        ArgumentNullException.ThrowIfNull(x);
        x.AddConsumer<ApplySettingsConsumer>().Endpoint(e =>
        {
            e.InstanceId = Guid.NewGuid().ToString("N")[..12];
            e.Temporary = true;
        });
        return x;
    }
}
