using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace BuildFarm.Persistence;

public static class PostgresMigrationServiceCollectionExtensions
{
    /// <summary>
    /// Applies the SQL migrations embedded in <paramref name="assemblies"/> when the host starts, before any
    /// hosted service (MassTransit's included) starts: see <see cref="PostgresMigrationService"/>. May be called
    /// more than once; each assembly is migrated once, in the order first added. Needs the
    /// <see cref="Npgsql.NpgsqlDataSource"/> singleton (ServiceDefaults' <c>AddFarmPostgres()</c>).
    /// </summary>
    public static IServiceCollection AddPostgresMigrations(this IServiceCollection services, params Assembly[] assemblies)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.Configure<PostgresMigrationOptions>(o =>
        {
            foreach (var assembly in assemblies)
            {
                if (!o.Assemblies.Contains(assembly))
                {
                    o.Assemblies.Add(assembly);
                }
            }
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgresMigrationService>());
        return services;
    }
}
