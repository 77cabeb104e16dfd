namespace BuildFarm.EndToEnd.Tests;

public sealed class Restarting_the_scheduler(SlowMockFarm farm) : IClassFixture<SlowMockFarm>
{
    [Fact]
    public async Task A_build_dispatched_before_the_scheduler_was_killed_still_completes()
    {
        var (url, commit) = farm.Repo(Path.Combine(Repository.Root, "samples", "hello-buildfarm"));
        var accepted = await farm.SubmitAsync(new
        {
            sourceRepository = url, branch = "main", commitHash = commit, targetArchitecture = "x86_64",
            toolchain = "mock:fedora-40-x86_64", priority = "normal",
        });
        var id = accepted.GetProperty("id").GetGuid();
        await farm.WaitForStateAsync(id, "Building");

        await farm.RestartSchedulerAsync();

        var build = await farm.WaitForStateAsync(id, "Completed", "Failed", "Cancelled", "TimedOut");
        Assert.Equal("Completed", build.GetProperty("state").GetString());
        Assert.Equal(1, build.GetProperty("attempt").GetInt32());
        Assert.Contains(build.GetProperty("artifacts").EnumerateArray(), a => a.GetProperty("name").GetString()!.EndsWith(".src.rpm", StringComparison.Ordinal));
    }
}
