using BuildFarm.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace BuildFarm.Submission.Projects;

/// <summary>
/// Runs a sync pass at start and then every <see cref="ProjectsOptions.PollInterval"/> (on the <see cref="TimeProvider"/>);
/// the pass checks each project not checked for syncIntervalHours while autoSyncProjects is on, so a change of either
/// setting applies at the next poll, without a restart. A project just registered is checked at once
/// (<see cref="ProjectSyncSignal"/>). Nothing a check does stops the service: failures are logged and recorded.
/// </summary>
public sealed partial class ProjectSyncService(
    ProjectSyncer syncer,
    ProjectSyncSignal signal,
    FarmSettingsCache settings,
    TimeProvider time,
    IOptions<ProjectsOptions> options,
    ILogger<ProjectSyncService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        Task poll = Task.CompletedTask;
        Task<bool>? wake = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (poll.IsCompleted)
                {
                    await RunPassAsync(stoppingToken);
                    poll = Task.Delay(options.Value.PollInterval, time, stoppingToken);
                }
                wake ??= signal.Reader.WaitToReadAsync(stoppingToken).AsTask();
                await Task.WhenAny(poll, wake);
                if (wake.IsCompleted)
                {
                    wake = null;
                    while (signal.Reader.TryRead(out var projectId))
                    {
                        await CheckAsync(projectId, stoppingToken);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    private async Task RunPassAsync(CancellationToken stoppingToken)
    {
        try
        {
            var pass = await syncer.RunPassAsync(stoppingToken);
            if (pass.Checked > 0)
            {
                LogPass(pass.Checked, pass.Submitted, pass.Failed);
            }
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            LogPassFailed(ex);
        }
    }

    private async Task CheckAsync(Guid projectId, CancellationToken stoppingToken)
    {
        if (!settings.Current.AutoSyncProjects)
        {
            return;
        }
        try
        {
            await syncer.CheckAsync(projectId, stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            LogCheckFailed(ex, projectId);
        }
    }

    [LoggerMessage(LogLevel.Information, "Project sync pass: {Checked} checked, {Submitted} builds submitted, {Failed} failed")]
    private partial void LogPass(int @checked, int submitted, int failed);

    [LoggerMessage(LogLevel.Error, "The project sync pass failed; the next poll tries again")]
    private partial void LogPassFailed(Exception exception);

    [LoggerMessage(LogLevel.Error, "Checking the new project {ProjectId} failed")]
    private partial void LogCheckFailed(Exception exception, Guid projectId);
}
