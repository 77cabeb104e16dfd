using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BuildFarm.Persistence;

/// <summary>
/// Applies the configured migrations in <see cref="IHostedLifecycleService.StartingAsync"/>, which the host runs
/// for every lifecycle service before it calls any hosted service's <c>StartAsync</c>. So the tables exist
/// before MassTransit's hosted service starts the bus, whatever order the services were registered in.
/// </summary>
public sealed class PostgresMigrationService(
    NpgsqlDataSource dataSource,
    IOptions<PostgresMigrationOptions> options,
    ILogger<PostgresMigrationService> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        foreach (var assembly in options.Value.Assemblies.Distinct())
        {
            var applied = await PostgresMigrator.ApplyAsync(dataSource, assembly, cancellationToken);
            foreach (var name in applied)
            {
                logger.LogInformation("Applied migration {Migration} of {Assembly}", name, assembly.GetName().Name);
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
