using BuildFarm.Contracts;
using BuildFarm.Persistence;
using BuildFarm.Persistence.Outbox;
using BuildFarm.ServiceDefaults;
using BuildFarm.Submission.Builds;
using FluentValidation;
using MassTransit;
using Npgsql;

namespace BuildFarm.Submission.Projects;

/// <summary>
/// Checks projects: reads the branch head with <see cref="GitRemote"/> and, when it differs from the last commit a
/// build was submitted for, submits a build of it exactly as POST /api/v1/builds does (build_request row and
/// BuildRequested in one transaction through <see cref="PostgresOutbox"/>) with the idempotency key
/// <c>project:{id}:{commit}</c>, so a crash between submitting and recording can never submit the same commit twice.
/// A check holds a per-project advisory lock; a pass over the due projects holds a farm-wide one, so two Submission
/// instances never check at the same time. Failures are recorded as the project's last_error, never thrown.
/// </summary>
public sealed partial class ProjectSyncer(
    NpgsqlDataSource dataSource,
    ProjectStore projects,
    BuildSubmissions submissions,
    GitRemote git,
    IValidator<BuildRequested> rules,
    IServiceScopeFactory scopes,
    FarmSettingsCache settings,
    TimeProvider time,
    ILogger<ProjectSyncer> logger)
{
    /// <summary>The advisory lock (<see cref="PostgresAdvisoryLock"/>) of a sync pass.</summary>
    public const string PassLock = "buildfarm.projects.sync";

    /// <summary>The advisory lock of one project's check.</summary>
    public static string ProjectLock(Guid projectId) => $"buildfarm.projects.check:{projectId:D}";

    /// <summary>Checks one project now, whatever the farm settings say (POST /api/v1/projects/{id}/sync).</summary>
    public async Task<ProjectCheckResult> CheckAsync(Guid projectId, CancellationToken ct)
    {
        await using var held = await PostgresAdvisoryLock.AcquireAsync(dataSource, ProjectLock(projectId), ct);
        var project = await projects.FindAsync(projectId, ct);
        if (project is null)
        {
            return ProjectCheckResult.NotFound;
        }
        var head = await git.ResolveBranchHeadAsync(project.Repository, project.Branch, ct);
        var now = time.GetUtcNow();
        if (head.Commit is not { } commit)
        {
            return await FailAsync(project, now, head.Error ?? "the branch head could not be read", ct);
        }
        if (string.Equals(commit, project.LastSeenCommit, StringComparison.OrdinalIgnoreCase))
        {
            await projects.RecordUnchangedAsync(project.Id, now, ct);
            return ProjectCheckResult.Unchanged(commit);
        }

        var request = project.ToBuildRequest(NewId.NextGuid(), commit, now);
        var validation = await rules.ValidateAsync(request, ct);
        if (!validation.IsValid)
        {
            return await FailAsync(project, now,
                "the project's builds are not valid on this farm: " + string.Join("; ", validation.Errors.Select(e => $"{e.PropertyName}: {e.ErrorMessage}")), ct);
        }
        Guid buildId;
        bool created;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var outbox = scope.ServiceProvider.GetRequiredService<PostgresOutbox>();
            (buildId, created) = await submissions.SubmitAsync(outbox, request, project.IdempotencyKey(commit), ct);
        }
        await projects.RecordSubmittedAsync(project.Id, now, commit, buildId, ct);
        LogSubmitted(project.Name, project.Branch, commit, buildId, created);
        return ProjectCheckResult.Submitted(commit, buildId, created);
    }

    /// <summary>
    /// Checks every project not checked for syncIntervalHours, when autoSyncProjects is on and no other instance is
    /// running a pass. A project whose check throws (e.g. the database went away mid-check) is counted as failed.
    /// </summary>
    public async Task<ProjectSyncPass> RunPassAsync(CancellationToken ct)
    {
        var current = settings.Current;
        if (!current.AutoSyncProjects)
        {
            return ProjectSyncPass.Disabled;
        }
        await using var pass = await PostgresAdvisoryLock.TryAcquireAsync(dataSource, PassLock, ct);
        if (pass is null)
        {
            return ProjectSyncPass.Busy;
        }
        var interval = TimeSpan.FromHours(Math.Max(1, current.SyncIntervalHours));
        var due = await projects.ListDueAsync(time.GetUtcNow() - interval, ct);
        int checkedCount = 0, submitted = 0, failed = 0;
        foreach (var id in due)
        {
            try
            {
                var result = await CheckAsync(id, ct);
                checkedCount += result.Outcome == ProjectCheckOutcome.NotFound ? 0 : 1;
                submitted += result.Outcome == ProjectCheckOutcome.Submitted && result.NewBuild ? 1 : 0;
                failed += result.Outcome == ProjectCheckOutcome.Failed ? 1 : 0;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                checkedCount++;
                failed++;
                LogCheckCrashed(ex, id);
            }
        }
        return new ProjectSyncPass(ProjectSyncPassStatus.Ran, checkedCount, submitted, failed);
    }

    private async Task<ProjectCheckResult> FailAsync(Project project, DateTimeOffset now, string error, CancellationToken ct)
    {
        await projects.RecordErrorAsync(project.Id, now, error, ct);
        LogCheckFailed(project.Name, error);
        return ProjectCheckResult.Failed(error);
    }

    [LoggerMessage(LogLevel.Information, "Project {Project}: branch {Branch} is at {Commit}; build {BuildId} submitted (new: {NewBuild})")]
    private partial void LogSubmitted(string project, string branch, string commit, Guid buildId, bool newBuild);

    [LoggerMessage(LogLevel.Warning, "Project {Project} could not be checked: {Error}")]
    private partial void LogCheckFailed(string project, string error);

    [LoggerMessage(LogLevel.Error, "Checking project {ProjectId} failed")]
    private partial void LogCheckCrashed(Exception exception, Guid projectId);
}
