using BuildFarm.Contracts;
using BuildFarm.Domain;
using BuildFarm.Persistence;
using BuildFarm.Scheduler.Consumers;
using BuildFarm.Scheduler.Dispatch;
using BuildFarm.Scheduler.Monitoring;
using BuildFarm.Scheduler.StateMachines;
using BuildFarm.ServiceDefaults;
using FluentValidation;
using MassTransit;

namespace BuildFarm.Scheduler;

public static class SchedulerExtensions
{
    /// <summary>The build saga on PostgreSQL, the dispatcher, the server registry and the deadline monitor.</summary>
    public static IHostApplicationBuilder AddScheduler(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SchedulerOptions>().BindConfiguration(SchedulerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<SourcePolicy>().BindConfiguration("Farm");
        builder.Services.AddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<SourcePolicy>>().Value);
        builder.Services.AddSingleton<IValidator<BuildRequested>, BuildRequestValidator>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<FarmSettingsCache>();
        builder.Services.AddSingleton<DispatchSignal>();
        builder.Services.AddSingleton<BuildFarm.Persistence.Outbox.IOutboxCommitObserver, DispatchOnCommit>();
        builder.Services.AddSingleton<QueueLengthCache>();
        builder.Services.AddSingleton<IQueueGauge, PostgresQueueGauge>();
        builder.Services.AddSingleton<Dispatcher>();
        builder.Services.AddSingleton<Status.StatusReader>();
        builder.Services.AddHostedService<DispatchLoop>();
        builder.Services.AddHostedService<DeadlineMonitor>();
        builder.Services.AddHostedService<BusProbeSender>();

        builder.AddFarmPostgres();
        builder.Services.AddPostgresMigrations(typeof(SchedulerExtensions).Assembly);
        builder.AddFarmBus(x =>
        {
            x.AddPostgresOutbox();
            x.AddSagaStateMachine<BuildStateMachine, BuildState, BuildStateDefinition>().PostgresRepository(Data.BuildStateTable.Name, Data.BuildStateTable.Columns);
            x.AddConsumer<RecordHeartbeatConsumer>();
            x.AddConsumer<TriggerDispatchConsumer>();
            x.AddConsumer<AnswerBuildStatusConsumer>();
            x.AddConsumer<AnswerQueueStatusConsumer>();
            x.AddFarmSettingsListener();
        });
        builder.Services.AddFarmSettingsBootstrap();
        return builder;
    }
}
