using BuildFarm.Semaphore;
using BuildFarm.Testing;
using BuildFarm.Worker.Builds;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Tests.Support;

/// <summary>A build runner with its own workspace, artifact store and mock roots, recording what it publishes.</summary>
public sealed class TestWorker : IAsyncDisposable
{
    public const string ServerId = "test-server";
    public const string MockConfig = "fedora-41-x86_64";

    private readonly ServiceProvider _services;

    public TestWorker(Action<WorkerOptions>? configure = null, IFarmSemaphore? semaphore = null, TimeProvider? time = null)
    {
        Directories = new TempDirectory("bfworker");
        MockRoots = Directories.Sub("mock-roots");
        // Builds run as the unprivileged build user, like mock's users who share /var/lib/mock through the mock group.
        File.SetUnixFileMode(MockRoots, (UnixFileMode)0b1_111_111_111);
        Semaphore = semaphore ?? new FakeFarmSemaphore();
        var services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddSingleton<IBuildEvents>(Events)
            .AddSingleton(Semaphore);
        if (time is not null)
        {
            services.AddSingleton(time);
        }
        services.AddBuildRunner();
        services.Configure<WorkerOptions>(o =>
        {
            o.ServerId = ServerId;
            o.WorkspaceRoot = Directories.Sub("workspaces");
            o.ArtifactStore = Directories.Sub("artifacts");
            o.AllowFileRepositories = true;
            o.MockCommand = Paths.StandInMock;
            o.MockConfigs = [MockConfig];
            o.Architectures = ["x86_64"];
            o.StopGracePeriod = TimeSpan.FromSeconds(2);
            o.ShutdownGracePeriod = TimeSpan.FromSeconds(1);
            o.BuildEnvironment["MOCK_ROOT_BASE"] = MockRoots;
            configure?.Invoke(o);
        });
        _services = services.BuildServiceProvider();
        Runner = _services.GetRequiredService<BuildRunner>();
    }

    public TempDirectory Directories { get; }

    /// <summary>MOCK_ROOT_BASE of the stand-in mock.</summary>
    public string MockRoots { get; }

    public RecordingEvents Events { get; } = new();

    public IFarmSemaphore Semaphore { get; }

    public BuildRunner Runner { get; }

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    /// <summary>Dispatches and waits for the attempt's BuildRunFinished.</summary>
    public async Task<BuildRunFinished> BuildAsync(DispatchBuild request, TimeSpan? timeout = null)
    {
        Assert.Equal(DispatchDecision.Accepted, await Runner.DispatchAsync(request, CancellationToken.None));
        return await Events.FinishedAsync(request.BuildId, timeout ?? TimeSpan.FromSeconds(60));
    }

    public static DispatchBuild Request(string repository, string commit, string toolchain = "rpmbuild",
        string branch = "main", string architecture = "noarch", string? specPath = null) => new()
    {
        BuildId = Guid.NewGuid(),
        Attempt = 1,
        ServerId = ServerId,
        SourceRepository = repository,
        Branch = branch,
        CommitHash = commit,
        TargetArchitecture = architecture,
        Toolchain = toolchain,
        SpecPath = specPath,
        Priority = "normal",
        DispatchedAt = DateTimeOffset.UtcNow,
        MaxBuildMinutes = 10,
    };

    public async ValueTask DisposeAsync()
    {
        await Runner.StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
        Directories.Dispose();
    }
}
