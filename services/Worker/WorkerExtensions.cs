using BuildFarm.Semaphore;
using BuildFarm.ServiceDefaults;
using BuildFarm.Worker.Builds;
using BuildFarm.Worker.Consumers;
using BuildFarm.Worker.Heartbeats;
using BuildFarm.Worker.Sources;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace BuildFarm.Worker;

public static class WorkerExtensions
{
    /// <summary>
    /// The build server: options (section <c>Worker</c>), Redis and the farm semaphore, the bus with this
    /// server's own queue <c>build-server-{ServerId}</c> (DispatchBuild, StopBuildRun, SettingsChanged), the
    /// background build runner and the heartbeat.
    /// </summary>
    public static IHostApplicationBuilder AddWorker(this IHostApplicationBuilder builder)
    {
        builder.AddFarmRedis();
        builder.Services.AddFarmSemaphore();
        // The bus first: hosted services stop in reverse order, so the runner hands back its builds while the bus still runs.
        builder.AddFarmBus(
            x =>
            {
                x.AddConsumer<RunBuildConsumer>().ExcludeFromConfigureEndpoints();
                x.AddConsumer<StopBuildRunConsumer>().ExcludeFromConfigureEndpoints();
                x.AddConsumer<ApplySettingsConsumer>().ExcludeFromConfigureEndpoints();
            },
            (context, cfg) =>
            {
                var options = context.GetRequiredService<IOptions<WorkerOptions>>().Value;
                cfg.ReceiveEndpoint(options.QueueName, e =>
                {
                    e.UseTransientRetry();
                    // Builds and stops are sent to this server's queue, never published: only settings changes are bound to it.
                    e.ConfigureConsumeTopology = false;
                    e.Bind<Contracts.SettingsChanged>();
                    e.ConfigureConsumer<RunBuildConsumer>(context);
                    e.ConfigureConsumer<StopBuildRunConsumer>(context);
                    e.ConfigureConsumer<ApplySettingsConsumer>(context);
                });
            });
        // Results and log batches go through a durable spool on the server's disk; it stops after the runner (which
        // writes the last results) and before the bus.
        builder.Services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<WorkerOptions>>().Value;
            var bus = sp.GetRequiredService<IBus>();
            return new Spool.EventSpool(Path.Combine(options.StateDirectory, "spool"), options.SpoolLimitBytes,
                (message, id, ct) => Spool.SpooledBuildEvents.SendAsync(bus, message, id, ct), sp.GetRequiredService<ILogger<Spool.EventSpool>>());
        });
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Spool.EventSpool>());
        builder.Services.TryAddSingleton<IBuildEvents, Spool.SpooledBuildEvents>();
        builder.Services.AddBuildRunner();
        builder.Services.AddFarmSettingsBootstrap();
        return builder;
    }

    /// <summary>
    /// The runner, heartbeat, repository cache (and its maintenance) and what they need, without the bus: needs an <see cref="IBuildEvents"/> and an
    /// <see cref="IFarmSemaphore"/> registered beside it.
    /// </summary>
    public static IServiceCollection AddBuildRunner(this IServiceCollection services)
    {
        services.AddOptions<WorkerOptions>()
            .BindConfiguration(WorkerOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<WorkerInstance>();
        services.TryAddSingleton<FarmSettingsCache>();
        services.TryAddSingleton<WorkerSettings>();
        services.TryAddSingleton<WorkerCapabilities>();
        services.TryAddSingleton<RepositoryCache>();
        services.TryAddSingleton<GitCheckout>();
        services.TryAddSingleton<Sandboxing.BuildSandbox>();
        services.TryAddSingleton(sp => new BuildRunner(
            sp.GetRequiredService<IOptions<WorkerOptions>>(),
            sp.GetRequiredService<WorkerSettings>(),
            sp.GetRequiredService<WorkerCapabilities>(),
            sp.GetRequiredService<IFarmSemaphore>(),
            sp.GetRequiredService<IBuildEvents>(),
            sp.GetRequiredService<GitCheckout>(),
            sp.GetRequiredService<Sandboxing.BuildSandbox>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<BuildRunner>>(),
            sp.GetRequiredService<WorkerInstance>()));
        services.AddHostedService(sp => sp.GetRequiredService<BuildRunner>());
        services.AddHostedService<HeartbeatService>();
        services.AddHostedService<RepositoryCacheMaintenance>();
        return services;
    }
}
