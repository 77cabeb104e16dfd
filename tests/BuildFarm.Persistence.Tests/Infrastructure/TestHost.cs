using BuildFarm.Persistence.Outbox;
using BuildFarm.Persistence.Tests.Counter;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace BuildFarm.Persistence.Tests.Infrastructure;

/// <summary>A process of the farm in miniature: the counter saga on Postgres behind the outbox, and a recording consumer.</summary>
public static class TestHost
{
    public const string SagaQueue = "counter-state";

    public static IHost Build(string postgres, Uri rabbitMq, Recorder recorder, bool lockOnLoad = true, Action<PostgresOutboxOptions>? outbox = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning).AddFilter("MassTransit", LogLevel.Error);
        var connectionString = new NpgsqlConnectionStringBuilder(postgres) { MaxPoolSize = 24 }.ConnectionString;
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.Services.AddSingleton(recorder);
        builder.Services.AddPostgresMigrations(typeof(CounterState).Assembly);
        builder.Services.AddMassTransit(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();
            x.AddPostgresOutbox(o =>
            {
                o.PollInterval = TimeSpan.FromSeconds(1);
                o.RetryDelay = TimeSpan.FromMilliseconds(200);
                outbox?.Invoke(o);
            });
            x.AddSagaStateMachine<CounterStateMachine, CounterState, CounterStateDefinition>()
                .PostgresRepository("counter_state", o =>
                {
                    o.LockOnLoad = lockOnLoad;
                    o.Column("count", NpgsqlTypes.NpgsqlDbType.Integer, s => s.Count);
                });
            x.AddConsumer<RecordingConsumer>();
            x.UsingRabbitMq((context, cfg) =>
            {
                var userInfo = rabbitMq.UserInfo.Split(':', 2);
                cfg.Host(rabbitMq.Host, (ushort)rabbitMq.Port, Uri.UnescapeDataString(rabbitMq.AbsolutePath.TrimStart('/')), h =>
                {
                    h.Username(userInfo[0]);
                    h.Password(userInfo[1]);
                });
                cfg.ConnectReceiveObserver(recorder);
                cfg.ConnectConsumeObserver(recorder);
                cfg.ConfigureEndpoints(context);
            });
        });
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = true;
            o.StartTimeout = TimeSpan.FromSeconds(30);
            o.StopTimeout = TimeSpan.FromSeconds(10);
        });
        return builder.Build();
    }

    /// <summary>
    /// Applies the outbox's and the counter saga's tables the way the host would at start, for tests that write before
    /// the host (and so its bus) has started.
    /// </summary>
    public static async Task MigrateAsync(IHost host)
    {
        var dataSource = host.Services.GetRequiredService<NpgsqlDataSource>();
        await PostgresMigrator.ApplyAsync(dataSource, typeof(PostgresOutbox).Assembly, CancellationToken.None);
        await PostgresMigrator.ApplyAsync(dataSource, typeof(CounterState).Assembly, CancellationToken.None);
    }

    public static async Task<long> ScalarAsync(string postgres, string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
