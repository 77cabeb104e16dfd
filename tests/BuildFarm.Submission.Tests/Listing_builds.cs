using System.Text.Json;
using BuildFarm.Submission.Builds;
using Microsoft.Extensions.DependencyInjection;

namespace BuildFarm.Submission.Tests;

/// <summary>
/// GET /api/v1/builds over both sources of a build: the Scheduler's read model (builds it took up) and the requests
/// accepted here that it has not taken up yet or refused. Each test lists only its own submitter's builds.
/// </summary>
[Collection(SubmissionAppCollection.Name)]
public sealed class Listing_builds(SubmissionApp app)
{
    private readonly string submitter = $"lister-{Guid.NewGuid():N}";

    [Fact]
    public async Task Pages_through_taken_up_builds_and_waiting_requests_newest_first_each_once()
    {
        var now = app.Time.GetUtcNow();
        var waiting = new[] { await SubmitAsync(), await SubmitAsync() };
        var takenUp = new List<Guid>();
        foreach (var age in new[] { -3, -2, 1 })
        {
            takenUp.Add(await SchedulerBuilds.AddAsync(app.Database, "Completed", b =>
            {
                b.SubmittedBy = submitter;
                b.SubmittedAt = now.AddMinutes(age);
            }));
        }

        var seen = new List<(Guid Id, string State)>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await ListAsync($"submitter={submitter}&limit=2" + (cursor is null ? "" : $"&cursor={cursor}"));
            seen.AddRange(page.GetProperty("builds").EnumerateArray().Select(b => (b.GetProperty("id").GetGuid(), b.GetProperty("state").GetString()!)));
            cursor = page.GetProperty("next").GetString();
            pages++;
        }
        while (cursor is not null);

        // Newest first: the one taken up a minute "later", then the two requests (same time: higher id first), then the rest.
        Guid[] expected = [takenUp[2], .. waiting.OrderDescending(), takenUp[1], takenUp[0]];
        Assert.Equal(expected, seen.Select(s => s.Id));
        Assert.Equal(3, pages);
        Assert.Equal(["Completed", "Queued", "Queued", "Completed", "Completed"], seen.Select(s => s.State));
    }

    [Fact]
    public async Task Filters_each_source_on_its_own_columns()
    {
        var waiting = await SubmitAsync();
        var refused = await SubmitAsync();
        await app.Services.GetRequiredService<BuildRejections>().RecordRejectionAsync(
            new BuildRejected { BuildId = refused, Errors = [new FieldError("queue", "full")], RejectedAt = DateTimeOffset.UtcNow }, CancellationToken.None);
        var onServer = await SchedulerBuilds.AddAsync(app.Database, "Building", b =>
        {
            b.SubmittedBy = submitter;
            b.ServerId = "lister-s1";
            b.Attempt = 1;
            b.TargetArchitecture = "aarch64";
            b.Priority = "urgent";
            b.SourceRepository = "https://example.org/listed.git";
        });

        Assert.Equal([refused], await IdsAsync("state=Rejected"));
        Assert.Equal([waiting], await IdsAsync("state=Queued"));
        Assert.Equal([onServer], await IdsAsync("state=Building"));
        Assert.Equal([onServer], await IdsAsync("server=lister-s1"));
        Assert.Equal([onServer], await IdsAsync("architecture=aarch64"));
        Assert.Equal([onServer], await IdsAsync("priority=URGENT"));
        Assert.Equal([onServer], await IdsAsync($"repository={Uri.EscapeDataString("https://example.org/listed.git")}"));
        Assert.Equal(new[] { refused, waiting }.OrderDescending(), await IdsAsync("repository=file%3A%2F%2F%2Fsrv%2Fgit%2Flisted.git&architecture=x86_64&priority=normal"));
        Assert.Empty(await IdsAsync("from=" + Uri.EscapeDataString(app.Time.GetUtcNow().AddMinutes(10).ToString("O"))));
    }

    [Fact]
    public async Task A_request_the_scheduler_took_up_is_marked_and_reads_from_the_scheduler()
    {
        var id = await SubmitAsync();
        await SchedulerBuilds.AddAsync(app.Database, "Building", b =>
        {
            b.CorrelationId = id;
            b.SubmittedBy = submitter;
            b.SubmittedAt = app.Time.GetUtcNow();
        });

        Assert.Equal([id], await IdsAsync(""));
        Assert.Equal("Building", (await ListAsync($"submitter={submitter}")).GetProperty("builds")[0].GetProperty("state").GetString());

        await app.Services.GetRequiredService<TakenUpRequests>().MarkAsync(CancellationToken.None);

        Assert.True(await app.ScalarAsync<bool>("SELECT taken_up FROM build_request WHERE build_id = $1", id));
        Assert.Equal([id], await IdsAsync(""));
        Assert.Equal([id], await IdsAsync("state=Building"));
        Assert.Empty(await IdsAsync("state=Queued"));
    }

    private async Task<Guid> SubmitAsync()
    {
        using var client = app.Client("submitter", submitter);
        using var response = await client.PostAsJsonAsync("/api/v1/builds", new
        {
            sourceRepository = "file:///srv/git/listed.git",
            branch = "main",
            commitHash = new string('c', 40),
            targetArchitecture = "x86_64",
            toolchain = "rpmbuild",
        });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private async Task<JsonElement> ListAsync(string query)
    {
        using var client = app.Client("viewer");
        return await client.GetFromJsonAsync<JsonElement>($"/api/v1/builds?{query}");
    }

    private async Task<List<Guid>> IdsAsync(string filter) =>
        [.. (await ListAsync($"submitter={submitter}&{filter}")).GetProperty("builds").EnumerateArray().Select(b => b.GetProperty("id").GetGuid())];
}
