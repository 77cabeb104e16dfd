using BuildFarm.Persistence;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Submission.Projects;
using Npgsql;

namespace BuildFarm.Submission.Tests;

[Collection(SubmissionAppCollection.Name)]
public sealed class Syncing_a_project(SubmissionApp app) : IDisposable
{
    private readonly BareRepository _repository = new();

    [Fact]
    public async Task Builds_the_branch_head_as_soon_as_it_is_registered()
    {
        var project = await app.RegisterAsync(_repository.Url, user: "grace");

        var checkedProject = await app.WaitForFirstCheckAsync(project.Id);

        var build = Assert.Single(await app.BuildsOfAsync(project.Id));
        Assert.Equal((_repository.Head, "grace"), (build.Commit, build.SubmittedBy));
        Assert.Equal((_repository.Head, build.BuildId, (string?)null), (checkedProject.LastSeenCommit, checkedProject.LastBuildId, checkedProject.LastError));
        var published = await app.ScalarAsync<long>(
            "SELECT count(*) FROM outbox_message WHERE message_type LIKE '%BuildRequested%' AND body LIKE '%' || $1 || '%'", build.BuildId.ToString());
        Assert.Equal(1, published);
    }

    [Fact]
    public async Task Submits_a_build_when_the_branch_moves_and_only_then()
    {
        var project = await app.RegisterAsync(_repository.Url);
        var first = await app.WaitForFirstCheckAsync(project.Id);

        await app.MakeDueAsync(project.Id);
        await app.RunPassAsync();
        Assert.Single(await app.BuildsOfAsync(project.Id));

        var moved = _repository.Push();
        await app.MakeDueAsync(project.Id);
        await app.RunPassAsync();

        var builds = await app.BuildsOfAsync(project.Id);
        Assert.Equal(new[] { first.LastSeenCommit!, moved }.Order(StringComparer.Ordinal), builds.Select(b => b.Commit).Order(StringComparer.Ordinal));
        var after = (await app.GetAsync(project.Id))!;
        Assert.Equal((moved, builds.Single(b => b.Commit == moved).BuildId), (after.LastSeenCommit, after.LastBuildId));
    }

    [Fact]
    public async Task Submits_nothing_on_a_second_pass_for_the_same_commit()
    {
        var project = await app.RegisterAsync(_repository.Url);
        await app.WaitForFirstCheckAsync(project.Id);
        var moved = _repository.Push();
        await app.MakeDueAsync(project.Id);
        await app.RunPassAsync();
        var before = (await app.GetAsync(project.Id))!;

        await app.MakeDueAsync(project.Id);
        var pass = await app.RunPassAsync();

        Assert.Equal(ProjectSyncPassStatus.Ran, pass.Status);
        Assert.Equal(2, (await app.BuildsOfAsync(project.Id)).Count);
        var after = (await app.GetAsync(project.Id))!;
        Assert.Equal((moved, before.LastBuildId), (after.LastSeenCommit, after.LastBuildId));
        Assert.True(after.LastCheckedAt >= before.LastCheckedAt, "the second pass checked the project");
    }

    [Fact]
    public async Task Never_submits_a_commit_twice_even_when_its_record_was_lost()
    {
        var project = await app.RegisterAsync(_repository.Url);
        var first = await app.WaitForFirstCheckAsync(project.Id);
        _repository.Push();
        var submitted = await app.Syncer.CheckAsync(project.Id, CancellationToken.None);
        Assert.True(submitted.NewBuild);
        // As if the process died after submitting the build but before recording it on the project.
        await using (var rollback = app.Database.CreateCommand("UPDATE project SET last_seen_commit = $2, last_build_id = $3 WHERE id = $1"))
        {
            rollback.Parameters.AddWithValue(project.Id);
            rollback.Parameters.AddWithValue(first.LastSeenCommit!);
            rollback.Parameters.AddWithValue(first.LastBuildId!.Value);
            await rollback.ExecuteNonQueryAsync();
        }

        var again = await app.Syncer.CheckAsync(project.Id, CancellationToken.None);

        Assert.Equal((ProjectCheckOutcome.Submitted, false, submitted.BuildId), (again.Outcome, again.NewBuild, again.BuildId));
        Assert.Equal(2, (await app.BuildsOfAsync(project.Id)).Count);
        var after = (await app.GetAsync(project.Id))!;
        Assert.Equal((_repository.Head, submitted.BuildId), (after.LastSeenCommit, after.LastBuildId));
    }

    [Fact]
    public async Task Records_an_unreachable_repository_as_its_last_error()
    {
        var project = await app.RegisterAsync($"file:///nonexistent/{Guid.NewGuid():N}.git");

        var checkedProject = await app.WaitForFirstCheckAsync(project.Id);

        Assert.Contains("does not appear to be a git repository", checkedProject.LastError, StringComparison.Ordinal);
        Assert.Null(checkedProject.LastSeenCommit);
        Assert.Empty(await app.BuildsOfAsync(project.Id));
        await app.MakeDueAsync(project.Id);
        var pass = await app.RunPassAsync();
        Assert.True(pass.Failed >= 1);
        Assert.NotNull((await app.GetAsync(project.Id))!.LastError);
    }

    [Fact]
    public async Task Checks_again_once_the_sync_interval_has_passed()
    {
        var project = await app.RegisterAsync(_repository.Url);
        await app.WaitForFirstCheckAsync(project.Id);
        var moved = _repository.Push();

        app.Time.Advance(TimeSpan.FromHours(app.Settings.Current.SyncIntervalHours) + TimeSpan.FromMinutes(1));

        await Eventually.HoldsAsync(async () => (await app.GetAsync(project.Id))?.LastSeenCommit == moved, "the moved branch is built");
        Assert.Equal(2, (await app.BuildsOfAsync(project.Id)).Count);
    }

    [Fact]
    public async Task Checks_now_when_a_submitter_asks()
    {
        var project = await app.RegisterAsync(_repository.Url);
        await app.WaitForFirstCheckAsync(project.Id);
        var moved = _repository.Push();
        using var viewer = app.Client(FarmRoles.Viewer);
        using var submitter = app.Client(FarmRoles.Submitter, "someone-else");

        using var refused = await viewer.PostAsync($"/api/v1/projects/{project.Id}/sync", null);
        using var response = await submitter.PostAsync($"/api/v1/projects/{project.Id}/sync", null);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sync = (await response.Content.ReadFromJsonAsync<ProjectSyncResponse>())!;
        Assert.Equal((ProjectCheckOutcome.Submitted, moved, true), (sync.Outcome, sync.Commit, sync.NewBuild));
        Assert.Equal((moved, sync.BuildId), (sync.Project.LastSeenCommit, sync.Project.LastBuildId));
        using var missing = await submitter.PostAsync($"/api/v1/projects/{Guid.NewGuid()}/sync", null);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Checks_nothing_while_auto_sync_is_off_or_another_instance_is_checking()
    {
        var project = await app.RegisterAsync(_repository.Url);
        await app.WaitForFirstCheckAsync(project.Id);
        _repository.Push();
        await app.MakeDueAsync(project.Id);
        var settings = app.Settings.Current;

        app.Settings.Apply(settings with { AutoSyncProjects = false }, app.Settings.Revision + 1);
        var disabled = await app.Syncer.RunPassAsync(CancellationToken.None);
        app.Settings.Apply(settings, app.Settings.Revision + 1);
        ProjectSyncPass busy;
        await using (var otherInstance = await app.Database.OpenConnectionAsync())
        {
            await using var hold = new NpgsqlCommand($"SELECT pg_advisory_lock({PostgresAdvisoryLock.KeyOf(ProjectSyncer.PassLock)})", otherInstance);
            await hold.ExecuteNonQueryAsync();
            busy = await app.Syncer.RunPassAsync(CancellationToken.None);
            await using var release = new NpgsqlCommand($"SELECT pg_advisory_unlock({PostgresAdvisoryLock.KeyOf(ProjectSyncer.PassLock)})", otherInstance);
            await release.ExecuteNonQueryAsync();
        }

        Assert.Equal(ProjectSyncPassStatus.Disabled, disabled.Status);
        Assert.Equal(ProjectSyncPassStatus.Busy, busy.Status);
        Assert.Single(await app.BuildsOfAsync(project.Id));
    }

    public void Dispose() => _repository.Dispose();
}
