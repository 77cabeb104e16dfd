using BuildFarm.ServiceDefaults.Bus;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using StackExchange.Redis;

namespace BuildFarm.ServiceDefaults;

/// <summary>
/// What every BuildFarm process shares: OpenTelemetry (traces, metrics, logs; OTLP when
/// OTEL_EXPORTER_OTLP_ENDPOINT is set), health endpoints, and the wiring of RabbitMQ (MassTransit),
/// PostgreSQL (Npgsql) and Redis from the connection strings <c>RabbitMq</c>, <c>Postgres</c> and <c>Redis</c>.
/// </summary>
public static class Extensions
{
    /// <summary>The activity source and meter of the farm's own code.</summary>
    public const string TelemetryName = "BuildFarm";

    private const string ReadyTag = "ready";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        // Npgsql logs every command it runs at Information: the services' logs would hold little else.
        builder.Logging.AddFilter("Npgsql.Command", LogLevel.Warning);
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        return builder;
    }

    private static void ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddMeter(TelemetryName, "MassTransit"))
            .WithTracing(tracing => tracing
                .AddSource(TelemetryName, "MassTransit")
                .AddNpgsql()
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => !ctx.Request.Path.StartsWithSegments("/health"))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }
    }

    /// <summary>/health/live (the process answers) and /health/ready (its servers answer).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = r => r.Tags.Contains(ReadyTag) });
        return app;
    }

    /// <summary>
    /// MassTransit on RabbitMQ from <c>ConnectionStrings:RabbitMq</c> (an amqp:// URI with user, password
    /// and virtual host). Endpoints are kebab-case and configured from the registered consumers and sagas.
    /// </summary>
    public static IHostApplicationBuilder AddFarmBus(
        this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator> configure,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? configureBus = null)
    {
        var uri = new Uri(builder.Configuration.GetConnectionString("RabbitMq")
            ?? throw new InvalidOperationException("ConnectionStrings:RabbitMq is not set (an amqp:// URI)."));
        var busUser = BusUser(uri);
        builder.Services.AddOptions<BusSenderOptions>().BindConfiguration(BusSenderOptions.SectionName)
            .Validate(o => !o.Check || new[] { o.Submission, o.Scheduler, o.Settings, o.WorkerPrefix }.All(n => !string.IsNullOrWhiteSpace(n)),
                "Bus:Senders needs the user names of Submission, the Scheduler, Settings and the Worker prefix.")
            .ValidateOnStart();
        builder.Services.TryAddSingleton<BusSenderPolicy>();

        builder.Services.AddMassTransit(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();
            // Outermost on every endpoint: a server that is away holds messages in their queue (see TransientFailures).
            x.AddConfigureEndpointsCallback((_, _, endpoint) => endpoint.UseTransientRetry());
            configure(x);
            x.UsingRabbitMq((context, cfg) =>
            {
                cfg.ConfigureRabbitMqHost(uri);
                // Every message names its sender in user_id (RabbitMQ refuses one that names another user), and every
                // consumer checks that its sender may send it.
                cfg.ConfigureSend(send => send.UseSendExecute(ctx => StampSender(ctx, busUser)));
                cfg.ConfigurePublish(publish => publish.UseExecute(ctx => StampSender(ctx, busUser)));
                cfg.UseConsumeFilter(typeof(SenderCheckFilter<>), context);
                // A failed message goes to its queue's _error queue; nothing subscribes to Fault<T> events, and no
                // service may write their exchanges.
                cfg.ConnectEndpointConfigurationObserver(new EndpointDefaults(busUser));
                cfg.ConfigureJsonSerializerOptions(options =>
                {
                    options.Converters.Add(new LenientStringConverter());
                    return options;
                });
                configureBus?.Invoke(context, cfg);
                cfg.ConfigureEndpoints(context);
            });
        });
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = true;
            o.StartTimeout = TimeSpan.FromSeconds(60);
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });
        builder.Services.Configure<HealthCheckServiceOptions>(o =>
        {
            foreach (var registration in o.Registrations.Where(r => r.Tags.Contains("masstransit")))
            {
                registration.Tags.Add(ReadyTag);
            }
        });
        return builder;
    }

    /// <summary>Every receive endpoint: no Fault events, and failed or unconsumed messages moved as this service's user.</summary>
    private sealed class EndpointDefaults(string busUser) : IEndpointConfigurationObserver
    {
        public void EndpointConfigured<T>(T configurator)
            where T : IReceiveEndpointConfigurator
        {
            configurator.PublishFaults = false;
            SenderSafeMove.Configure(configurator, busUser);
        }
    }

    private static void StampSender(SendContext context, string user)
    {
        if (context.TryGetPayload<RabbitMqSendContext>(out var rabbit))
        {
            rabbit.BasicProperties.UserId = user;
        }
    }

    /// <summary>The user an amqp:// URI connects as (RabbitMQ's default, guest, when it names none).</summary>
    public static string BusUser(Uri uri) =>
        uri.UserInfo.Split(':', 2) is [{ Length: > 0 } user, ..] ? Uri.UnescapeDataString(user) : "guest";

    /// <summary>Points a RabbitMQ bus at an amqp:// URI, user and password included.</summary>
    public static void ConfigureRabbitMqHost(this IRabbitMqBusFactoryConfigurator cfg, Uri uri)
    {
        var userInfo = uri.UserInfo.Split(':', 2);
        var virtualHost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        cfg.Host(uri.Host, uri.IsDefaultPort || uri.Port < 0 ? (ushort)5672 : (ushort)uri.Port,
            string.IsNullOrEmpty(virtualHost) ? "/" : virtualHost, h =>
            {
                if (userInfo.Length == 2)
                {
                    h.Username(Uri.UnescapeDataString(userInfo[0]));
                    h.Password(Uri.UnescapeDataString(userInfo[1]));
                }
            });
    }

    /// <summary>One <see cref="NpgsqlDataSource"/> from <c>ConnectionStrings:Postgres</c>, with a readiness check.</summary>
    public static IHostApplicationBuilder AddFarmPostgres(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString("Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings:Postgres is not set (an Npgsql connection string).");
        builder.Services.AddSingleton(sp =>
        {
            var dataSource = new NpgsqlDataSourceBuilder(connectionString);
            dataSource.UseLoggerFactory(sp.GetRequiredService<ILoggerFactory>());
            return dataSource.Build();
        });
        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres", tags: [ReadyTag]);
        return builder;
    }

    /// <summary>One multiplexed Redis connection from <c>ConnectionStrings:Redis</c>, with a readiness check.</summary>
    public static IHostApplicationBuilder AddFarmRedis(this IHostApplicationBuilder builder)
    {
        var configuration = builder.Configuration.GetConnectionString("Redis")
            ?? throw new InvalidOperationException("ConnectionStrings:Redis is not set (a StackExchange.Redis configuration).");
        builder.Services.AddSingleton<IConnectionMultiplexer>(_ =>
        {
            var options = ConfigurationOptions.Parse(configuration);
            options.AbortOnConnectFail = false;
            return ConnectionMultiplexer.Connect(options);
        });
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", tags: [ReadyTag]);
        return builder;
    }
}
