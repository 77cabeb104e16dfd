using BuildFarm.Persistence.Outbox;
using BuildFarm.Persistence.Saga;
using MassTransit;
using MassTransit.Configuration;
using MassTransit.Middleware;
using MassTransit.Saga;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace BuildFarm.Persistence;

/// <summary>
/// Wiring of the Postgres saga repository, inbox and outbox into MassTransit. Needs the <see cref="Npgsql.NpgsqlDataSource"/>
/// singleton (ServiceDefaults' <c>AddFarmPostgres()</c>).
/// <code>
/// builder.AddFarmPostgres();
/// builder.Services.AddPostgresMigrations(typeof(BuildState).Assembly);          // the caller's own tables (build_state)
/// builder.AddFarmBus(x =>
/// {
///     x.AddPostgresOutbox();                                                     // outbox/inbox tables, relay, cleanup
///     x.AddSagaStateMachine&lt;BuildStateMachine, BuildState, BuildStateDefinition&gt;().PostgresRepository("build_state");
/// });
/// // BuildStateDefinition.ConfigureSaga(endpoint, saga, context):
/// //     endpoint.UsePostgresConflictRetry();   // 1. retry: each attempt is a new transaction
/// //     endpoint.UsePostgresOutbox(context);   // 2. inbox + outbox: one transaction per message
/// //     (the saga itself comes last, as MassTransit adds it after the endpoint filters)
/// </code>
/// </summary>
public static class PostgresRegistrationExtensions
{
    /// <summary>
    /// Stores the saga in <paramref name="tableName"/> (see <see cref="PostgresSagaStore{TSaga}.CreateTableSql"/> for
    /// the DDL the caller's migration must contain), one row per instance, versioned; also registers
    /// <see cref="ILoadSagaRepository{TSaga}"/> and <see cref="PostgresSagaStore{TSaga}"/> (for listing by state).
    /// </summary>
    public static ISagaRegistrationConfigurator<TSaga> PostgresRepository<TSaga>(
        this ISagaRegistrationConfigurator<TSaga> configurator,
        string tableName,
        Action<PostgresSagaRepositoryOptions<TSaga>>? configure = null)
        where TSaga : class, ISagaVersion
    {
        ArgumentNullException.ThrowIfNull(configurator);
        var options = new PostgresSagaRepositoryOptions<TSaga> { TableName = tableName };
        configure?.Invoke(options);
        var store = new PostgresSagaStore<TSaga>(options);

        return configurator.Repository(r =>
        {
            r.TryAddScoped<PostgresSession>();
            r.AddSingleton(store);
            r.RegisterSagaRepository<TSaga, PostgresSession, SagaConsumeContextFactory<PostgresSession, TSaga>, PostgresSagaRepositoryContextFactory<TSaga>>();
            r.RegisterLoadSagaRepository<TSaga, PostgresSagaRepositoryContextFactory<TSaga>>();
        });
    }

    /// <summary>
    /// The Postgres inbox/outbox services: the scoped <see cref="PostgresSession"/> and <see cref="PostgresOutbox"/>,
    /// the outbox context factory used by <see cref="UsePostgresOutbox"/>, the relay
    /// (<see cref="PostgresOutboxDeliveryService"/>), the cleanup, and the migrations of this assembly
    /// (<c>outbox_message</c>, <c>inbox_state</c>) applied at start.
    /// </summary>
    public static IBusRegistrationConfigurator AddPostgresOutbox(this IBusRegistrationConfigurator configurator, Action<PostgresOutboxOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        configurator.AddPostgresOutboxServices(configure);
        return configurator;
    }

    /// <summary>The services of <see cref="AddPostgresOutbox"/> on a plain service collection.</summary>
    public static IServiceCollection AddPostgresOutboxServices(this IServiceCollection services, Action<PostgresOutboxOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<PostgresOutboxOptions>()
            .Validate(o => o.BatchSize > 0 && o.SourcesPerBatch > 0, "PostgresOutboxOptions: BatchSize and SourcesPerBatch must be positive.")
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.RetryDelay > TimeSpan.Zero, "PostgresOutboxOptions: PollInterval and RetryDelay must be positive.")
            .ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.AddPostgresMigrations(typeof(PostgresSession).Assembly);
        services.TryAddSingleton<OutboxSignal>();
        services.TryAddScoped<PostgresSession>();
        services.TryAddScoped<PostgresOutbox>();
        services.TryAddScoped<IOutboxContextFactory<PostgresSession>, PostgresOutboxContextFactory>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgresOutboxDeliveryService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgresOutboxCleanupService>());
        return services;
    }

    /// <summary>
    /// Puts every consumer and saga of this endpoint behind the Postgres inbox + outbox (one transaction per message,
    /// shared with the Postgres saga repository and <see cref="PostgresSession"/>). Call it after the retry
    /// (<see cref="PostgresRetry.UsePostgresConflictRetry"/>) and before the consumers/sagas are configured, e.g. in
    /// a definition's <c>ConfigureSaga</c>/<c>ConfigureConsumer</c>, or bus-wide with
    /// <c>x.AddConfigureEndpointsCallback((context, name, e) =&gt; { e.UsePostgresConflictRetry(); e.UsePostgresOutbox(context); })</c>.
    /// </summary>
    public static void UsePostgresOutbox(this IReceiveEndpointConfigurator configurator, IRegistrationContext context,
        Action<IOutboxOptionsConfigurator>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        ArgumentNullException.ThrowIfNull(context);
        var observer = new OutboxConsumePipeSpecificationObserver<PostgresSession>(configurator, context);
        configure?.Invoke(observer);
        configurator.ConnectConsumerConfigurationObserver(observer);
        configurator.ConnectSagaConfigurationObserver(observer);
    }
}
