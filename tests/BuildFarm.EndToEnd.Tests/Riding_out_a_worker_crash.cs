namespace BuildFarm.EndToEnd.Tests;

/// <summary>A Worker killed with SIGKILL mid-build and started again at once, as a supervisor would.</summary>
public sealed class Riding_out_a_worker_crash(WorkerCrashFarm farm) : IClassFixture<WorkerCrashFarm>
{
    [Fact]
    public async Task The_build_is_retried_as_a_new_attempt_and_nothing_of_the_dead_attempt_is_left()
    {
        var (url, commit) = farm.Repo(Path.Combine(Repository.Root, "samples", "hello-buildfarm"));
        var id = (await farm.SubmitAsync(new
        {
            sourceRepository = url, branch = "main", commitHash = commit, targetArchitecture = "x86_64", toolchain = "mock:fedora-40-x86_64",
        })).GetProperty("id").GetGuid();
        await farm.WaitForStateAsync(id, "Building");
        var mock = await WrittenPidAsync("mock");
        var child = await WrittenPidAsync("child");
        var workspace = Path.Combine(farm.Temp, "workspaces", $"{id:D}-1");
        var root = Path.Combine(farm.Temp, "mock-roots", $"fedora-40-x86_64-build-{id:D}-1");
        Assert.True(Directory.Exists(workspace) && Directory.Exists(root));

        // The next attempt builds quickly; the dead one's "build" would run for minutes.
        farm.Set("Worker__BuildEnvironment__MOCK_SLEEP", "1");
        await farm.KillWorkerAsync();
        await farm.StartWorkerAsync();

        var build = await farm.WaitForStateAsync(id, "Completed", "Failed", "Cancelled", "TimedOut");
        Assert.Equal("Completed", build.GetProperty("state").GetString());
        Assert.Equal(2, build.GetProperty("attempt").GetInt32());
        Assert.Contains(build.GetProperty("history").EnumerateArray(),
            h => h.GetProperty("reason").GetString()?.Contains("build server restarted", StringComparison.Ordinal) == true);
        Assert.False(IsAlive(mock), $"mock (pid {mock}) of the dead attempt still runs");
        Assert.False(IsAlive(child), $"the build process (pid {child}) of the dead attempt still runs");
        Assert.False(Directory.Exists(workspace), "the dead attempt's workspace is still there");
        Assert.False(Directory.Exists(root), "the dead attempt's mock root is still there");
        Assert.Empty(Directory.GetFiles(Path.Combine(farm.ArtifactStore, "incoming")));
    }

    private async Task<int> WrittenPidAsync(string kind)
    {
        string[] files = [];
        await Eventually.HoldsAsync(() => (files = Directory.GetFiles(farm.PidDirectory, kind + ".*")).Length > 0, $"the stand-in mock wrote a {kind} pid");
        return int.Parse(Path.GetExtension(files[0])[1..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Whether a process lives (a zombie counts as dead).</summary>
    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0] is not ("Z" or "X");
        }
        catch (IOException)
        {
            return false;
        }
    }
}

/// <summary>A Worker whose bus connection is cut (through a <see cref="TcpProxy"/>) while a build ends.</summary>
public sealed class Riding_out_a_broker_outage_on_the_worker(WorkerBusOutageFarm farm) : IClassFixture<WorkerBusOutageFarm>
{
    [Fact]
    public async Task The_result_and_the_whole_log_arrive_once_the_bus_is_back_in_order_and_once()
    {
        var (url, commit) = farm.Repo(Path.Combine(Repository.Root, "samples", "hello-buildfarm"));
        var id = (await farm.SubmitAsync(new
        {
            sourceRepository = url, branch = "main", commitHash = commit, targetArchitecture = "x86_64", toolchain = "mock:fedora-40-x86_64",
        })).GetProperty("id").GetGuid();
        await farm.WaitForStateAsync(id, "Building");

        farm.WorkerBus.Cut();
        // The Worker removes the attempt's record once the build ended and it cleaned up after it.
        var record = Path.Combine(farm.Temp, "state", farm.ServerId, "attempts", $"{id:N}-1.json");
        Assert.True(File.Exists(record));
        await Eventually.HoldsAsync(() => !File.Exists(record), "the build ended on the Worker", TimeSpan.FromMinutes(1), farm.Logs);
        Assert.Equal("Building", (await farm.GetBuildAsync(id)).GetProperty("state").GetString());
        farm.WorkerBus.Restore();

        var build = await farm.WaitForStateAsync(id, "Completed", "Failed", "Cancelled", "TimedOut");
        Assert.Equal("Completed", build.GetProperty("state").GetString());
        Assert.Equal(1, build.GetProperty("attempt").GetInt32());
        // Each of mock's two runs printed its numbered lines: both whole, in order, none twice.
        var log = await farm.Http.GetStringAsync($"/api/v1/builds/{id}/logs?stream=stdout");
        var numbers = log.Split('\n').Where(l => l.StartsWith("spam line ", StringComparison.Ordinal))
            .Select(l => int.Parse(l.Split(' ')[2], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var restarts = numbers.Select((n, i) => (n, i)).Where(x => x.n == 1).Select(x => x.i).ToList();
        Assert.Equal(2, restarts.Count);
        Assert.Equal(numbers.Count / 2, restarts[1]);
        Assert.Equal(Enumerable.Range(1, numbers.Count / 2).Concat(Enumerable.Range(1, numbers.Count / 2)), numbers);
    }
}
