using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.EndToEnd.Tests;

/// <summary>Builds that take a few seconds (the stand-in mock sleeps), so a test can act while they run.</summary>
public sealed class Running_builds_on_a_slow_farm(SlowMockFarm farm) : IClassFixture<SlowMockFarm>
{
    private object MockBuild(string priority = "normal")
    {
        var (url, commit) = farm.Repo(Path.Combine(Repository.Root, "samples", "hello-buildfarm"));
        return new
        {
            sourceRepository = url, branch = "main", commitHash = commit, targetArchitecture = "x86_64",
            toolchain = "mock:fedora-40-x86_64", priority,
        };
    }

    [Fact]
    public async Task A_build_dispatched_before_the_scheduler_was_killed_still_completes()
    {
        var id = (await farm.SubmitAsync(MockBuild())).GetProperty("id").GetGuid();
        await farm.WaitForStateAsync(id, "Building");

        await farm.RestartSchedulerAsync();

        var build = await farm.WaitForStateAsync(id, "Completed", "Failed", "Cancelled", "TimedOut");
        Assert.Equal("Completed", build.GetProperty("state").GetString());
        Assert.Equal(1, build.GetProperty("attempt").GetInt32());
        Assert.Contains(build.GetProperty("artifacts").EnumerateArray(), a => a.GetProperty("name").GetString()!.EndsWith(".src.rpm", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_build_whose_server_died_is_declared_lost_by_the_scheduler_and_built_again()
    {
        var id = (await farm.SubmitAsync(MockBuild())).GetProperty("id").GetGuid();
        await farm.WaitForStateAsync(id, "Building");

        await farm.KillWorkerAsync();
        // Three missed heartbeats later the Scheduler reports the attempt lost in the server's name (a sender it allows
        // only for that) and queues the build again.
        var requeued = await farm.WaitForStateAsync(id, "Queued", "Failed");
        await farm.StartWorkerAsync();

        Assert.Equal("Queued", requeued.GetProperty("state").GetString());
        Assert.Contains("build server lost", requeued.GetProperty("reason").GetString(), StringComparison.Ordinal);
        var build = await farm.WaitForStateAsync(id, "Completed", "Failed", "Cancelled", "TimedOut");
        Assert.Equal("Completed", build.GetProperty("state").GetString());
        Assert.Equal(2, build.GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task Cancelling_a_running_build_stops_it_and_it_ends_cancelled()
    {
        var id = (await farm.SubmitAsync(MockBuild())).GetProperty("id").GetGuid();
        await farm.WaitForStateAsync(id, "Building");

        var cancel = await farm.Http.PutAsync($"/api/v1/builds/{id}/cancel", null);

        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var build = await farm.WaitForStateAsync(id, "Cancelled", "Completed", "Failed");
        Assert.Equal("Cancelled", build.GetProperty("state").GetString());
        var states = build.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("state").GetString()).ToList();
        Assert.Equal(["Queued", "Dispatched", "Building", "Cancelling", "Cancelled"], states);
        Assert.Contains("confirmed", build.GetProperty("history")[4].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(Path.Combine(farm.Temp, "mock-roots")) ? Directory.GetDirectories(Path.Combine(farm.Temp, "mock-roots")) : []);

        var again = await farm.Http.PutAsync($"/api/v1/builds/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task Following_the_log_streams_it_live_to_the_end_and_resumes_after_the_last_event()
    {
        var id = (await farm.SubmitAsync(MockBuild())).GetProperty("id").GetGuid();
        await farm.WaitForStateAsync(id, "Building");

        var events = await ReadEventsAsync($"/api/v1/builds/{id}/logs/follow", null);

        Assert.Equal("end", events[^1].Event);
        var logs = events.Where(e => e.Event == "log").ToList();
        Assert.NotEmpty(logs);
        var text = string.Concat(logs.Select(e => JsonDocument.Parse(e.Data).RootElement.GetProperty("text").GetString()));
        Assert.Contains("hello-buildfarm", text, StringComparison.Ordinal);
        Assert.Equal("Completed", (await farm.GetBuildAsync(id)).GetProperty("state").GetString());

        var resumed = await ReadEventsAsync($"/api/v1/builds/{id}/logs/follow", logs[^2].Id);
        Assert.Equal([logs[^1].Id, null], resumed.Select(e => e.Id));
    }

    [Fact]
    public async Task A_lower_farm_limit_set_through_the_settings_api_reaches_the_running_farm()
    {
        using var admin = farm.Client(farm.Settings, "root", FarmRoles.Admin);
        using var patch = new StringContent("""{"maxConcurrentBuilds": 1}""", System.Text.Encoding.UTF8, "application/merge-patch+json");
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsync("/api/settings", patch)).StatusCode);
        try
        {
            var ids = new List<Guid>();
            for (var i = 0; i < 3; i++)
            {
                ids.Add((await farm.SubmitAsync(MockBuild())).GetProperty("id").GetGuid());
            }
            var (placed, holding) = (0, 0);
            var reasons = new List<string>();
            while (true)
            {
                var builds = await Task.WhenAll(ids.Select(farm.GetBuildAsync));
                var states = builds.Select(b => b.GetProperty("state").GetString()).ToList();
                placed = Math.Max(placed, states.Count(s => s is "Dispatched" or "Building"));
                var slots = await admin.GetFromJsonAsync<JsonElement>("/api/settings/build_status");
                holding = Math.Max(holding, slots.GetProperty("holders").GetArrayLength());
                if (states.All(s => s is "Completed" or "Failed" or "Cancelled" or "TimedOut"))
                {
                    Assert.All(states, s => Assert.Equal("Completed", s));
                    break;
                }
                var status = await farm.Http.GetFromJsonAsync<JsonElement>($"/api/v1/builds/{ids[^1]}/status");
                if (status.GetProperty("state").GetString() == "Queued")
                {
                    reasons.Add(status.GetProperty("whyWaiting").GetString()!);
                }
                await Task.Delay(200);
            }
            // One slot held at a time; one build more placed ahead to take it next (Scheduler:ReadyAheadPercent).
            Assert.Equal(1, holding);
            Assert.Equal(2, placed);
            Assert.Contains(reasons, r => r.StartsWith("farm-wide limit reached (1 of 1 slots, and 1 more builds placed at servers", StringComparison.Ordinal));
        }
        finally
        {
            using var restore = new StringContent("""{"maxConcurrentBuilds": 4}""", System.Text.Encoding.UTF8, "application/merge-patch+json");
            await admin.PatchAsync("/api/settings", restore);
        }
    }

    private async Task<List<(string? Id, string Event, string Data)>> ReadEventsAsync(string path, string? lastEventId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }
        using var response = await farm.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var events = new List<(string?, string, string)>();
        string? id = null, name = null, data = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                if (name is not null)
                {
                    events.Add((id, name, data ?? ""));
                }
                (id, name, data) = (null, null, null);
                continue;
            }
            if (line.StartsWith("id: ", StringComparison.Ordinal)) { id = line[4..]; }
            else if (line.StartsWith("event: ", StringComparison.Ordinal)) { name = line[7..]; }
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) { data = line[6..]; }
        }
        return events;
    }
}
