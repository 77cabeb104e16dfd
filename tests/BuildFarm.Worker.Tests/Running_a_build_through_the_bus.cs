using BuildFarm.Semaphore;
using BuildFarm.ServiceDefaults;
using BuildFarm.Testing;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildFarm.Worker.Tests;

/// <summary>The worker service as it runs: real RabbitMQ (a virtual host of its own), real Redis.</summary>
public sealed class Running_a_build_through_the_bus : IAsyncLifetime
{
    private readonly GitRepository _repository = new();
    private readonly TempDirectory _directory = new("bfbus");
    private readonly RecordingEvents _received = new();
    private readonly string _serverId = $"bus-{Guid.NewGuid():N}"[..16];
    private Uri _vhost = null!;
    private IHost _host = null!;
    private IBusControl _listener = null!;

    public async Task InitializeAsync()
    {
        _vhost = await TestServers.CreateVirtualHostAsync("worker");
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:RabbitMq"] = _vhost.ToString(),
            // The test plays every other part of the farm as guest, so nothing checks who sent a message (the end-to-end tests do).
            ["Bus:Senders:Check"] = "false",
            ["ConnectionStrings:Redis"] = TestServers.Redis,
            ["Semaphore:KeyPrefix"] = $"test:worker-bus:{Guid.NewGuid():N}",
            ["Worker:ServerId"] = _serverId,
            ["Worker:WorkspaceRoot"] = Path.Combine(_directory.Path, "workspaces"),
            ["Worker:ArtifactStore"] = Path.Combine(_directory.Path, "artifacts"),
            ["Worker:AllowFileRepositories"] = "true",
            ["Worker:HeartbeatInterval"] = "00:00:01",
        });
        builder.AddWorker();
        _host = builder.Build();

        _listener = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.ConfigureRabbitMqHost(_vhost);
            cfg.ReceiveEndpoint("worker-test-listener", e =>
            {
                e.Handler<BuildRunAccepted>(c => _received.PublishAsync(c.Message, default));
                e.Handler<BuildRunStarted>(c => _received.PublishAsync(c.Message, default));
                e.Handler<BuildLogAppended>(c => _received.PublishAsync(c.Message, default));
                e.Handler<BuildRunFinished>(c => _received.PublishAsync(c.Message, default));
                e.Handler<BuildServerHeartbeat>(c => _received.PublishAsync(c.Message, default));
            });
        });
        await _listener.StartAsync();
        await _host.StartAsync();
        // The farm-wide limit is the Settings service's to set (the semaphore has no default); the test plays it.
        await new RedisFarmSemaphoreAdmin(_host.Services.GetRequiredService<IConnectionMultiplexer>(),
            _host.Services.GetRequiredService<IOptions<FarmSemaphoreOptions>>()).SetLimitAsync(4);
    }

    [Fact]
    public async Task A_dispatch_yields_started_logs_and_a_successful_end_with_an_artifact()
    {
        var request = TestWorker.Request(_repository.Url, _repository.Head) with { ServerId = _serverId };
        var queue = await _listener.GetSendEndpoint(new Uri($"queue:{WorkerOptions.QueueNameFor(_serverId)}"));

        await queue.Send(request);
        var finished = await _received.FinishedAsync(request.BuildId, TimeSpan.FromSeconds(60));

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Contains(finished.Artifacts, a => a.Name == "hello-1.0-1.noarch.rpm" && a.Sha256.Length == 64);
        var started = await _received.WaitForAsync<BuildRunStarted>(s => s.BuildId == request.BuildId && s.ServerId == _serverId);
        Assert.Equal(started.FencingToken, finished.FencingToken);
        Assert.NotEmpty(_received.Log(request.BuildId, "stderr").Concat(_received.Log(request.BuildId, "stdout")));
    }

    [Fact]
    public async Task The_heartbeat_lists_rpmbuild_and_the_architectures()
    {
        var heartbeat = await _received.WaitForAsync<BuildServerHeartbeat>(h => h.ServerId == _serverId);

        Assert.Contains("rpmbuild", heartbeat.Toolchains);
        Assert.Contains("noarch", heartbeat.Architectures);
        Assert.Equal(4, heartbeat.MaxConcurrentBuilds);
        Assert.InRange(heartbeat.MemoryPercent, 0.1, 100);
        Assert.InRange(heartbeat.DiskPercent, 0.1, 100);
        Assert.Equal(TimeSpan.FromSeconds(1), heartbeat.Interval);
    }

    [Fact]
    public async Task Settings_changes_reach_the_server_without_a_restart()
    {
        var settings = _host.Services.GetRequiredService<WorkerSettings>();

        await _listener.Publish(new SettingsChanged
        {
            Settings = new FarmSettings { SlotWaitTimeoutSeconds = 42, MaxBuildMinutes = 7 },
            Revision = 3,
            ChangedAt = DateTimeOffset.UtcNow,
        });
        await Eventually.HoldsAsync(() => settings.MaxBuildMinutes == 7, "the change reached the Worker's settings", TimeSpan.FromSeconds(10));

        Assert.Equal(7, settings.MaxBuildMinutes);
        Assert.Equal(TimeSpan.FromSeconds(42), settings.SlotWaitTimeout);
    }

    public async Task DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        await _listener.StopAsync();
        await TestServers.DeleteVirtualHostAsync(_vhost);
        _repository.Dispose();
        _directory.Dispose();
    }
}
