using System.Diagnostics;
using System.Globalization;
using BuildFarm.Contracts;
using BuildFarm.Semaphore;
using BuildFarm.Worker.Builds;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Bench;

/// <summary>One build on the stand-in mock printing <see cref="SpamMb"/> MiB per mock call, and what it cost the process.</summary>
internal sealed record SpamRun(
    int SpamMb,
    string Outcome,
    bool Succeeded,
    long StdoutBytes,
    long LogBytes,
    long LogMessages,
    long LargestBatchChars,
    string? Gap,
    TimeSpan Duration,
    long ResidentBefore,
    long ResidentPeak,
    long ResidentAfter,
    long ManagedBefore,
    long ManagedPeak,
    long ManagedAfter,
    long GcHeapPeak,
    long Allocated,
    int Gen0,
    int Gen1,
    int Gen2,
    int Samples)
{
    private const string MockConfig = "fedora-41-x86_64";

    public double MegabytesPerSecond => StdoutBytes / 1048576.0 / Duration.TotalSeconds;

    public static async Task<SpamRun> RunAsync(string repositoryRoot, int spamMb, TimeSpan limit)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"bfbench-worker-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            var repository = Path.Combine(directory, "repo");
            var commit = MakeRepository(repository);
            var events = new CountingEvents();
            var services = new ServiceCollection()
                .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
                .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
                .AddSingleton<IBuildEvents>(events)
                .AddSingleton<IFarmSemaphore>(new InProcessSemaphore());
            services.AddBuildRunner();
            services.Configure<WorkerOptions>(o =>
            {
                o.ServerId = "bench";
                o.WorkspaceRoot = Path.Combine(directory, "workspaces");
                o.ArtifactStore = Path.Combine(directory, "artifacts");
                o.AllowFileRepositories = true;
                o.MockCommand = Path.Combine(repositoryRoot, "tests", "mock", "mock");
                o.MockConfigs = [MockConfig];
                o.Architectures = ["x86_64"];
                o.BuildEnvironment["MOCK_ROOT_BASE"] = Path.Combine(directory, "mock-roots");
                o.BuildEnvironment["MOCK_SPAM_MB"] = spamMb.ToString(CultureInfo.InvariantCulture);
            });
            await using var provider = services.BuildServiceProvider();
            var runner = provider.GetRequiredService<BuildRunner>();
            var request = new DispatchBuild
            {
                BuildId = Guid.NewGuid(),
                Attempt = 1,
                ServerId = "bench",
                SourceRepository = "file://" + repository,
                Branch = "main",
                CommitHash = commit,
                TargetArchitecture = "x86_64",
                Toolchain = "mock:" + MockConfig,
                Priority = "normal",
                DispatchedAt = DateTimeOffset.UtcNow,
                MaxBuildMinutes = (int)Math.Ceiling(limit.TotalMinutes),
            };

            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            var managedBefore = GC.GetTotalMemory(forceFullCollection: true);
            var residentBefore = MemorySampler.ResidentBytes();
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var (gen0, gen1, gen2) = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));

            var clock = Stopwatch.StartNew();
            var sampler = new MemorySampler(TimeSpan.FromMilliseconds(20));
            BuildRunFinished finished;
            try
            {
                if (await runner.DispatchAsync(request, CancellationToken.None) != DispatchDecision.Accepted)
                {
                    throw new InvalidOperationException("the runner did not accept the bench build");
                }
                if (await Task.WhenAny(events.Finished, Task.Delay(limit)) != events.Finished)
                {
                    runner.Stop(request.BuildId, request.Attempt, BuildRunOutcome.Cancelled, "the bench's time limit");
                }
                finished = await events.Finished.WaitAsync(TimeSpan.FromMinutes(2));
                clock.Stop();
            }
            finally
            {
                await sampler.DisposeAsync();
            }

            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var collections = (GC.CollectionCount(0) - gen0, GC.CollectionCount(1) - gen1, GC.CollectionCount(2) - gen2);
            var managedAfter = GC.GetTotalMemory(forceFullCollection: true);
            var residentAfter = MemorySampler.ResidentBytes();
            await runner.StopAsync(CancellationToken.None);

            return new SpamRun(
                spamMb,
                finished.Outcome + (finished.Reason is null ? "" : $" ({finished.Reason})"),
                finished.Outcome == BuildRunOutcome.Succeeded && events.Gap is null,
                events.BytesOf("stdout"),
                new[] { "stdout", "stderr", "build", "root" }.Sum(events.BytesOf),
                events.LogMessages,
                events.LargestBatchChars,
                events.Gap,
                clock.Elapsed,
                residentBefore,
                sampler.PeakResidentBytes,
                residentAfter,
                managedBefore,
                sampler.PeakManagedBytes,
                managedAfter,
                sampler.PeakGcHeapBytes,
                allocated,
                collections.Item1,
                collections.Item2,
                collections.Item3,
                sampler.Samples);
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // best effort
            }
        }
    }

    public string Summary() =>
        string.Create(CultureInfo.InvariantCulture,
            $"  {Outcome}: {StdoutBytes / 1048576.0:0.0} MiB stdout in {Duration.TotalSeconds:0.0} s ({MegabytesPerSecond:0.0} MiB/s); ")
        + $"RSS {Mib(ResidentBefore)} -> peak {Mib(ResidentPeak)} -> {Mib(ResidentAfter)}; "
        + $"managed {Mib(ManagedBefore)} -> peak {Mib(ManagedPeak)} -> {Mib(ManagedAfter)}"
        + (Gap is null ? "" : $"; GAP {Gap}");

    public static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB");

    private static string MakeRepository(string path)
    {
        Directory.CreateDirectory(path);
        Git(path, "init", "--quiet", "--initial-branch=main");
        File.WriteAllText(Path.Combine(path, "hello.spec"), """
            Name: hello
            Version: 1.0
            Release: 1
            Summary: A tiny bench package
            License: MIT
            BuildArch: noarch

            %description
            A tiny package built by the worker bench.

            %install
            mkdir -p %{buildroot}/usr/share/hello
            echo hello > %{buildroot}/usr/share/hello/hello.txt

            %files
            /usr/share/hello/hello.txt
            """);
        Git(path, "add", "--", "hello.spec");
        Git(path, "-c", "user.email=bench@buildfarm.invalid", "-c", "user.name=bench", "commit", "--quiet", "-m", "bench");
        return Git(path, "rev-parse", "HEAD").Trim();
    }

    private static string Git(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output.Result : throw new InvalidOperationException($"git {string.Join(' ', arguments)}: {error}");
    }
}
