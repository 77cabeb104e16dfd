using System.Net;

namespace BuildFarm.EndToEnd.Tests;

/// <summary>PostgreSQL away for longer than any endpoint's own retries, while a build runs and ends.</summary>
public sealed class Riding_out_a_database_outage(DatabaseOutageFarm farm) : IClassFixture<DatabaseOutageFarm>
{
    [Fact]
    public async Task A_build_that_ends_while_the_database_is_away_completes_once_it_is_back_and_no_message_is_lost()
    {
        var (url, commit) = farm.Repo(Path.Combine(Repository.Root, "samples", "hello-buildfarm"));
        var id = (await farm.SubmitAsync(new
        {
            sourceRepository = url, branch = "main", commitHash = commit, targetArchitecture = "x86_64", toolchain = "mock:fedora-40-x86_64",
        })).GetProperty("id").GetGuid();
        await farm.WaitForStateAsync(id, "Building");

        farm.Database.Cut();
        var during = await farm.Http.GetAsync($"/api/v1/builds/{id}");
        // Longer than the saga endpoint's own retries (about 9 s); the 6-second build ends meanwhile.
        await Task.Delay(TimeSpan.FromSeconds(20));
        farm.Database.Restore();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
        Assert.NotNull(during.Headers.RetryAfter);
        var build = await farm.WaitForStateAsync(id, "Completed", "Failed", "Cancelled", "TimedOut");
        Assert.Equal("Completed", build.GetProperty("state").GetString());
        Assert.Equal(1, build.GetProperty("attempt").GetInt32());
        // The log batches waited in Submission's queue too, retried on their own schedule: they arrive, all of them.
        var log = "";
        await Eventually.HoldsAsync(async () => (log = await farm.Http.GetStringAsync($"/api/v1/builds/{id}/logs?stream=build")).Contains("Child return code was: 0", StringComparison.Ordinal),
            "the whole build log arrived", TimeSpan.FromSeconds(90), () => $"log so far:\n{log}\n{farm.Logs()}");
        Assert.Contains("Wrote:", log, StringComparison.Ordinal);
        Assert.Contains("Child return code was: 0", log, StringComparison.Ordinal);
        var errors = (await TestServers.QueuesAsync(farm.VirtualHost)).Where(q => q.Name.EndsWith("_error", StringComparison.Ordinal)).ToList();
        Assert.All(errors, q => Assert.Equal(0, q.Messages));
    }
}
