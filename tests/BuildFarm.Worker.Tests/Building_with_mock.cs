using System.Diagnostics;
using BuildFarm.Testing;
using BuildFarm.Worker.Builds;

namespace BuildFarm.Worker.Tests;

public sealed class Building_with_mock : IAsyncLifetime
{
    private const string Toolchain = "mock:" + TestWorker.MockConfig;
    private readonly GitRepository _repository = new();
    private TestWorker _worker = null!;

    public Task InitializeAsync()
    {
        _worker = new TestWorker(o => o.BuildEnvironment["MOCK_SLEEP"] = "1");
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Four_builds_of_one_configuration_run_side_by_side_and_their_roots_are_scrubbed()
    {
        var requests = Enumerable.Range(0, 4)
            .Select(_ => TestWorker.Request(_repository.Url, _repository.Head, Toolchain, architecture: "x86_64")).ToList();

        foreach (var request in requests)
        {
            Assert.Equal(DispatchDecision.Accepted, await _worker.Runner.DispatchAsync(request, CancellationToken.None));
        }
        var finished = await Task.WhenAll(requests.Select(r => _worker.Events.FinishedAsync(r.BuildId, TimeSpan.FromSeconds(60))));

        Assert.All(finished, f =>
        {
            Assert.Equal(BuildRunOutcome.Succeeded, f.Outcome);
            Assert.Contains(f.Artifacts, a => a.Kind == ArtifactKinds.Rpm && a.Name == "hello-1.0-1.noarch.rpm");
            Assert.Contains(f.Artifacts, a => a.Kind == ArtifactKinds.SourceRpm);
            Assert.Contains(f.Artifacts, a => a.Kind == ArtifactKinds.Log && a.Name == "build.log");
            Assert.Contains(f.Artifacts, a => a.Kind == ArtifactKinds.Log && a.Name == "root.log");
        });
        Assert.Empty(Directory.GetFileSystemEntries(_worker.MockRoots));
    }

    [Fact]
    public async Task A_root_in_use_by_another_mock_fails_as_infrastructure_with_exit_60()
    {
        var request = TestWorker.Request(_repository.Url, _repository.Head, Toolchain, architecture: "x86_64");
        var holder = StartStandIn(["-r", TestWorker.MockConfig, "--uniqueext", $"build-{request.BuildId:D}-1", "--clean"], sleep: false);
        Assert.Equal(0, await WaitAsync(holder)); // makes the root
        using var busy = StartStandIn(
            ["-r", TestWorker.MockConfig, "--uniqueext", $"build-{request.BuildId:D}-1", "--resultdir", OtherResults(),
             "--buildsrpm", "--spec", Path.Combine(_repository.Path, "hello.spec"), "--sources", _repository.Path], sleep: true);
        try
        {
            await WaitForLockAsync(request);

            var finished = await _worker.BuildAsync(request);

            Assert.Equal(BuildRunOutcome.InfrastructureFailed, finished.Outcome);
            Assert.Equal(60, finished.ExitCode);
            Assert.Contains("locked", finished.Reason);
        }
        finally
        {
            busy.Kill(entireProcessTree: true);
            await busy.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task A_spec_that_fails_to_build_fails_the_build_and_keeps_the_logs()
    {
        _repository.Commit("hello.spec", GitRepository.Spec("1.1", "%{error: broken on purpose}"), "broken");

        var finished = await _worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head, Toolchain, architecture: "x86_64"));

        Assert.Equal(BuildRunOutcome.BuildFailed, finished.Outcome);
        Assert.Equal(10, finished.ExitCode);
        Assert.Contains(finished.Artifacts, a => a.Name == "build.log");
        Assert.DoesNotContain(finished.Artifacts, a => a.Kind == ArtifactKinds.Rpm);
        Assert.Empty(Directory.GetFileSystemEntries(_worker.MockRoots));
    }

    private string OtherResults()
    {
        var directory = _worker.Directories.Sub("other");
        File.SetUnixFileMode(directory, (UnixFileMode)0b1_111_111_111);
        return directory;
    }

    private Process StartStandIn(string[] arguments, bool sleep)
    {
        // Another build's mock, run as the build user like the Worker's own.
        var start = new ProcessStartInfo("setpriv") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in (string[])["--reuid=buildfarm-build", "--regid=buildfarm-build", "--clear-groups", "--", Paths.StandInMock])
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["MOCK_ROOT_BASE"] = _worker.MockRoots;
        if (sleep)
        {
            start.Environment["MOCK_SLEEP"] = "60";
        }
        return Process.Start(start)!;
    }

    private static async Task<int> WaitAsync(Process process)
    {
        using (process)
        {
            await process.WaitForExitAsync();
            return process.ExitCode;
        }
    }

    private Task WaitForLockAsync(DispatchBuild request)
    {
        // The holder has the root once it wrote its result files.
        var root = Path.Combine(_worker.MockRoots, $"{TestWorker.MockConfig}-build-{request.BuildId:D}-1", "root", "builddir");
        return Eventually.HoldsAsync(() => Directory.Exists(root), $"the first mock holds its root ({root})", TimeSpan.FromSeconds(10));
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        _repository.Dispose();
    }
}
