using System.Net.Http.Headers;
using BuildFarm.Semaphore;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Testing;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildFarm.Settings.Tests.Infrastructure;

/// <summary>
/// The Settings service hosted in-process on a database, a RabbitMQ virtual host and a Redis key prefix of the test
/// class's own; a listener process on the bus that records the broadcasts (started first, so it hears the one sent at
/// start); and a semaphore instance of its own on the same prefix, as a worker would have.
/// </summary>
public sealed class SettingsFixture : IAsyncLifetime
{
    public const string SigningKey = "settings-tests-signing-key-0123456789abcdef";

    /// <summary>The limit the fixture puts in Redis before the service starts (the service must replace it).</summary>
    public const int LimitBeforeStart = 11;

    /// <summary>How often the service compares the limit in Redis with the stored one (5 s unless configured).</summary>
    public static TimeSpan LimitCheckInterval { get; } = TimeSpan.FromMilliseconds(200);

    private WebApplicationFactory<Program>? _factory;
    private IHost? _listener;
    private ConnectionMultiplexer? _redis;

    public string Postgres { get; private set; } = "";

    public Uri RabbitMq { get; private set; } = null!;

    public string SemaphorePrefix { get; } = $"test:settings:{Guid.NewGuid():N}";

    public BusRecorder Recorder { get; } = new();

    /// <summary>A semaphore instance on the service's prefix with a connection of its own.</summary>
    public RedisFarmSemaphore Semaphore { get; private set; } = null!;

    /// <summary>An administrator of the semaphore on the same connection, to read what the service set.</summary>
    public RedisFarmSemaphoreAdmin SemaphoreAdmin { get; private set; } = null!;

    public IServiceProvider Services => _factory!.Services;

    public async Task InitializeAsync()
    {
        Postgres = await TestServers.CreateDatabaseAsync("settings");
        RabbitMq = await TestServers.CreateVirtualHostAsync("settings");
        _redis = await ConnectionMultiplexer.ConnectAsync(TestServers.Redis);
        var semaphoreOptions = Options.Create(new FarmSemaphoreOptions { KeyPrefix = SemaphorePrefix });
        Semaphore = new RedisFarmSemaphore(_redis, semaphoreOptions);
        SemaphoreAdmin = new RedisFarmSemaphoreAdmin(_redis, semaphoreOptions);
        await SemaphoreAdmin.SetLimitAsync(LimitBeforeStart);
        _listener = await BusHost.StartAsync(
            RabbitMq,
            x => x.AddConsumer<RecordingConsumer>().Endpoint(e => e.Name = "settings-tests-recorder"),
            services => services.AddSingleton(Recorder));
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("ConnectionStrings:Postgres", Postgres);
            web.UseSetting("ConnectionStrings:Redis", TestServers.Redis);
            web.UseSetting("ConnectionStrings:RabbitMq", RabbitMq.ToString());
            // The test plays every other part of the farm as guest, so nothing checks who sent a message (the end-to-end tests do).
            web.UseSetting("Bus:Senders:Check", "false");
            web.UseSetting("Auth:SigningKey", SigningKey);
            web.UseSetting("Semaphore:KeyPrefix", SemaphorePrefix);
            web.UseSetting("LimitSync:CheckInterval", LimitCheckInterval.ToString());
            web.ConfigureLogging(logging => logging.ClearProviders().AddSimpleConsole()
                .SetMinimumLevel(LogLevel.Warning).AddFilter("MassTransit", LogLevel.Error));
        });
        _ = _factory.Server;
    }

    /// <summary>An HTTP client for the service carrying a token with <paramref name="role"/> (none when null).</summary>
    public HttpClient Client(string? role, string user = "tester")
    {
        var client = _factory!.CreateClient();
        if (role is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token(role, user));
        }
        return client;
    }

    public static string Token(string role, string user = "tester") => FarmTokens.Create(SigningKey, user, role, TimeSpan.FromHours(1));

    /// <summary>The settings and ETag as GET returns them.</summary>
    public async Task<(FarmSettings Settings, string ETag)> GetAsync()
    {
        using var client = Client(FarmRoles.Viewer);
        using var response = await client.GetAsync("/api/settings");
        response.EnsureSuccessStatusCode();
        return ((await response.Content.ReadFromJsonAsync<FarmSettings>())!, response.Headers.ETag!.Tag);
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
        if (_listener is not null)
        {
            await _listener.StopAsync();
            _listener.Dispose();
        }
        if (_redis is not null)
        {
            await Semaphore.DisposeAsync();
            var keys = _redis.GetServers()[0].KeysAsync(pattern: "{" + SemaphorePrefix + "}:*");
            await foreach (var key in keys)
            {
                await _redis.GetDatabase().KeyDeleteAsync(key);
            }
            await _redis.DisposeAsync();
        }
        await TestServers.DeleteVirtualHostAsync(RabbitMq);
        await TestServers.DropDatabaseAsync(Postgres);
    }
}
