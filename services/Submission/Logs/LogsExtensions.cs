namespace BuildFarm.Submission.Logs;

public static class LogsExtensions
{
    /// <summary>
    /// Build logs: <see cref="LogStore"/>, the live followers' <see cref="LogNotifier"/> (a hosted service) and
    /// <see cref="LogFollowers"/>, the consumers' <see cref="LogWriter"/> (a hosted service), options of section "Logs". The <see cref="StoreBuildLogConsumer"/> is added with the
    /// bus (AddSubmission), the endpoints with <see cref="LogsApi.MapLogsApi"/>. Relies on the NpgsqlDataSource and the
    /// migrations (build_log, build_log_size) that AddSubmission registers.
    /// </summary>
    public static IHostApplicationBuilder AddLogs(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<LogsOptions>().BindConfiguration(LogsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<LogStore>();
        builder.Services.AddSingleton<LogFollowers>();
        builder.Services.AddSingleton<LogNotifier>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LogNotifier>());
        builder.Services.AddSingleton<LogWriter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<LogWriter>());
        return builder;
    }
}
