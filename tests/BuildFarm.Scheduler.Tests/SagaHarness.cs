using BuildFarm.Contracts;
using BuildFarm.Domain;
using BuildFarm.Scheduler;
using BuildFarm.Scheduler.StateMachines;
using BuildFarm.ServiceDefaults;
using BuildFarm.ServiceDefaults.Bus;
using BuildFarm.Testing;
using FluentValidation;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace BuildFarm.Scheduler.Tests;

/// <summary>The build saga in MassTransit's in-memory test harness, with a clock the test moves.</summary>
public sealed class SagaHarness : IAsyncDisposable
{
    private readonly ServiceProvider provider;

    private SagaHarness(ServiceProvider provider)
    {
        this.provider = provider;
        Harness = provider.GetRequiredService<ITestHarness>();
        Saga = Harness.GetSagaStateMachineHarness<BuildStateMachine, BuildState>();
        Clock = provider.GetRequiredService<FakeTimeProvider>();
        Settings = provider.GetRequiredService<FarmSettingsCache>();
    }

    public ITestHarness Harness { get; }
    public ISagaStateMachineTestHarness<BuildStateMachine, BuildState> Saga { get; }
    public FakeTimeProvider Clock { get; }
    public FarmSettingsCache Settings { get; }

    /// <summary>The number of queued builds the saga sees when it decides whether the queue is full.</summary>
    public CountingQueueGauge Queue => provider.GetRequiredService<CountingQueueGauge>();

    public static async Task<SagaHarness> StartAsync()
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton(new FakeTimeProvider(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero)))
            .AddSingleton<TimeProvider>(sp => sp.GetRequiredService<FakeTimeProvider>())
            .AddSingleton(new SourcePolicy { AllowFileRepositories = false })
            .AddSingleton<IValidator<BuildRequested>, BuildRequestValidator>()
            .AddSingleton<FarmSettingsCache>()
            .AddSingleton(new BusSenderPolicy(Options.Create(new BusSenderOptions { Check = false })))
            .AddSingleton<CountingQueueGauge>()
            .AddSingleton<Dispatch.IQueueGauge>(sp => sp.GetRequiredService<CountingQueueGauge>());
        services.AddOptions<SchedulerOptions>();
        services.AddMassTransitTestHarness(x =>
        {
            x.SetTestTimeouts(testTimeout: TimeSpan.FromSeconds(60), testInactivityTimeout: TimeSpan.FromSeconds(1));
            x.AddSagaStateMachine<BuildStateMachine, BuildState>().InMemoryRepository();
        });
        var harness = new SagaHarness(services.BuildServiceProvider(true));
        await harness.Harness.Start();
        return harness;
    }

    public static BuildRequested Request(Guid? id = null, string priority = "normal") => new()
    {
        BuildId = id ?? NewId.NextGuid(),
        SourceRepository = "https://example.org/rpms/hello.git",
        Branch = "main",
        CommitHash = "0123456789abcdef0123456789abcdef01234567",
        TargetArchitecture = "x86_64",
        Toolchain = "mock:fedora-40-x86_64",
        Priority = priority,
        SubmittedBy = "alice",
    };

    /// <summary>Publishes and waits until the saga has consumed it.</summary>
    public async Task PublishAsync<T>(T message)
        where T : class
    {
        var messageId = NewId.NextGuid();
        await Harness.Bus.Publish(message, c => c.MessageId = messageId);
        // Polled rather than the harness's own Any(), which gives up at once after an inactivity period that a loaded
        // 2-core machine reaches between steps.
        await Eventually.HoldsAsync(() => Saga.Consumed.Select<T>(c => c.Context.MessageId == messageId).Any(), $"the saga consumed {typeof(T).Name}");
    }

    public BuildState? Instance(Guid id) => Saga.Sagas.Contains(id);

    /// <summary>Submits a valid build and dispatches attempt 1 to <paramref name="server"/>.</summary>
    public async Task<Guid> DispatchedAsync(string server = "b1")
    {
        var request = Request();
        await PublishAsync(request);
        await DispatchAsync(request.BuildId, server);
        return request.BuildId;
    }

    /// <summary>
    /// What the dispatcher does to a queued build (<see cref="BuildStateMachine.DispatchTo"/> on the saga's instance, and its
    /// <see cref="DispatchBuild"/> sent to the server's queue), here on the harness's in-memory instance.
    /// </summary>
    public async Task DispatchAsync(Guid id, string server)
    {
        var saga = Instance(id) ?? throw new InvalidOperationException($"no saga for build {id}");
        var dispatch = BuildStateMachine.DispatchTo(saga, server, Clock.GetUtcNow(), Settings.Current,
            provider.GetRequiredService<IOptions<SchedulerOptions>>().Value);
        var endpoint = await Harness.Bus.GetSendEndpoint(BuildStateMachine.WorkerQueue(server));
        await endpoint.Send(dispatch);
        await Eventually.HoldsAsync(
            () => Harness.Sent.Select<DispatchBuild>(m => m.Context.Message.BuildId == id && m.Context.Message.Attempt == dispatch.Attempt).Any(),
            "the dispatch was sent");
    }

    /// <summary>Dispatched, accepted and started on <paramref name="server"/>.</summary>
    public async Task<Guid> BuildingAsync(string server = "b1")
    {
        var id = await DispatchedAsync(server);
        await PublishAsync(new BuildRunAccepted { BuildId = id, Attempt = 1, ServerId = server, AcceptedAt = Clock.GetUtcNow() });
        await PublishAsync(new BuildRunStarted { BuildId = id, Attempt = 1, ServerId = server, FencingToken = 7, StartedAt = Clock.GetUtcNow() });
        return id;
    }

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await provider.DisposeAsync();
    }
}

/// <summary>A queue gauge the test sets.</summary>
public sealed class CountingQueueGauge : Dispatch.IQueueGauge
{
    public long Queued { get; set; }

    public Task<long> QueuedAsync(CancellationToken ct) => Task.FromResult(Queued);
}
