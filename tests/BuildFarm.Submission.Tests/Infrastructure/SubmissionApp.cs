using System.Net.Http.Headers;
using BuildFarm.ServiceDefaults;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Submission.Cleanup;
using BuildFarm.Submission.Projects;
using BuildFarm.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace BuildFarm.Submission.Tests.Infrastructure;

/// <summary>
/// The Submission service hosted in-process on a database and a RabbitMQ virtual host of its own, with file://
/// repositories allowed, an artifact store in a temporary folder and a <see cref="FakeTimeProvider"/> that only moves
/// when a test advances it (so the background services run a pass at start and then only when told).
/// </summary>
public sealed class SubmissionApp : IAsyncLifetime
{
    public const string SigningKey = "submission-tests-signing-key-0123456789abcdef";

    private readonly TempDirectory _artifacts = new("bfsub-artifacts");
    private WebApplicationFactory<Program>? _factory;

    public string Postgres { get; private set; } = "";

    public Uri RabbitMq { get; private set; } = null!;

    public string ArtifactRoot => _artifacts.Path;

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    public NpgsqlDataSource Database { get; private set; } = null!;

    public IServiceProvider Services => _factory!.Services;

    /// <summary>Added to the service's connection string (say a small pool); the test's own <see cref="Database"/> is unaffected.</summary>
    public string PostgresOptions { get; init; } = "";

    /// <summary>Serve over Kestrel on a loopback port (real sockets: a client that does not read pushes back) instead of the in-memory server.</summary>
    public bool Kestrel { get; init; }

    /// <summary>More configuration for the service (key → value).</summary>
    public IReadOnlyDictionary<string, string> Configuration { get; init; } = new Dictionary<string, string>();

    /// <summary>Where the service listens when <see cref="Kestrel"/> is set.</summary>
    public Uri BaseAddress { get; private set; } = new("http://localhost");

    public ProjectSyncer Syncer => Services.GetRequiredService<ProjectSyncer>();

    public FarmSettingsCache Settings => Services.GetRequiredService<FarmSettingsCache>();

    public async Task InitializeAsync()
    {
        Postgres = await TestServers.CreateDatabaseAsync("submission");
        RabbitMq = await TestServers.CreateVirtualHostAsync("submission");
        Database = NpgsqlDataSource.Create(Postgres);
        await FarmTables.CreateSchedulerTablesAsync(Database);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("ConnectionStrings:Postgres", PostgresOptions.Length == 0 ? Postgres : $"{Postgres};{PostgresOptions}");
            web.UseSetting("ConnectionStrings:RabbitMq", RabbitMq.ToString());
            // The test plays every other part of the farm as guest, so nothing checks who sent a message (the end-to-end tests do).
            web.UseSetting("Bus:Senders:Check", "false");
            web.UseSetting("ConnectionStrings:Redis", TestServers.Redis);
            web.UseSetting("Auth:SigningKey", SigningKey);
            web.UseSetting("Farm:AllowFileRepositories", "true");
            web.UseSetting("Farm:ArtifactStore", ArtifactRoot);
            web.UseSetting("SettingsBootstrap:Attempts", "1");
            web.UseSetting("SettingsBootstrap:Timeout", "00:00:01");
            web.UseSetting("Projects:GitTimeout", "00:00:20");
            foreach (var (key, value) in Configuration)
            {
                web.UseSetting(key, value);
            }
            web.ConfigureLogging(logging => logging.ClearProviders().AddSimpleConsole()
                .SetMinimumLevel(LogLevel.Warning).AddFilter("MassTransit", LogLevel.Error));
            web.ConfigureServices(services =>
            {
                services.AddSingleton<TimeProvider>(Time);
            });
        });
        if (Kestrel)
        {
            _factory.UseKestrel(0);
            _factory.StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
            BaseAddress = new Uri(addresses.First());
        }
        else
        {
            _ = _factory.Server;
        }
    }


    /// <summary>An HTTP client carrying a token for <paramref name="user"/> with <paramref name="role"/> (none when null).</summary>
    public HttpClient Client(string? role, string user = "alice")
    {
        var client = Kestrel ? new HttpClient { BaseAddress = BaseAddress } : _factory!.CreateClient();
        if (role is not null)
        {
            client.DefaultRequestHeaders.Authorization =
                new AuthenticationHeaderValue("Bearer", Token(role, user));
        }
        return client;
    }

    /// <summary>Registers a project over HTTP as a submitter; returns it as the API answered.</summary>
    public async Task<ProjectResponse> RegisterAsync(string repositoryUrl, string? name = null, string user = "alice")
    {
        using var client = Client(FarmRoles.Submitter, user);
        using var response = await client.PostAsJsonAsync("/api/v1/projects", ProjectBody(repositoryUrl, name));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<ProjectResponse>())!;
    }

    /// <summary>A bearer token for <paramref name="user"/> with <paramref name="role"/>.</summary>
    public static string Token(string role, string user) => FarmTokens.Create(SigningKey, user, role, TimeSpan.FromHours(1));

    public static object ProjectBody(string repositoryUrl, string? name = null) => new
    {
        name = name ?? $"p-{Guid.NewGuid():N}",
        sourceRepository = repositoryUrl,
        branch = "main",
        targetArchitecture = "x86_64",
        toolchain = "rpmbuild",
        priority = "high",
    };

    public async Task<ProjectResponse?> GetAsync(Guid id)
    {
        using var client = Client(FarmRoles.Viewer);
        using var response = await client.GetAsync($"/api/v1/projects/{id}");
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.Content.ReadFromJsonAsync<ProjectResponse>();
    }

    /// <summary>Waits until the project has been checked at least once (the check that follows its registration).</summary>
    public async Task<ProjectResponse> WaitForFirstCheckAsync(Guid id)
    {
        ProjectResponse? project = null;
        await Eventually.HoldsAsync(async () => (project = await GetAsync(id))?.LastCheckedAt is not null, $"project {id} is checked");
        return project!;
    }

    /// <summary>Makes the project due for the next pass, as if syncIntervalHours had passed since its last check.</summary>
    public async Task MakeDueAsync(Guid id)
    {
        await using var command = Database.CreateCommand("UPDATE project SET last_checked_at = last_checked_at - interval '1 day' WHERE id = $1");
        command.Parameters.AddWithValue(id);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs a sync pass, waiting while a background pass holds the lock.</summary>
    public async Task<ProjectSyncPass> RunPassAsync()
    {
        ProjectSyncPass pass = ProjectSyncPass.Busy;
        await Eventually.HoldsAsync(async () => (pass = await Syncer.RunPassAsync(CancellationToken.None)).Status != ProjectSyncPassStatus.Busy,
            "no other sync pass is running");
        return pass;
    }

    /// <summary>The builds submitted for a project: build id, commit and submitter.</summary>
    public async Task<IReadOnlyList<(Guid BuildId, string Commit, string SubmittedBy)>> BuildsOfAsync(Guid projectId)
    {
        await using var command = Database.CreateCommand("""
            SELECT build_id, request->>'commitHash', submitted_by FROM build_request
             WHERE idempotency_key LIKE $1
            """);
        command.Parameters.AddWithValue($"project:{projectId}:%");
        await using var reader = await command.ExecuteReaderAsync();
        var builds = new List<(Guid, string, string)>();
        while (await reader.ReadAsync())
        {
            builds.Add((reader.GetGuid(0), reader.GetString(1), reader.GetString(2)));
        }
        return builds;
    }

    public async Task<T?> ScalarAsync<T>(string sql, params object[] values)
    {
        await using var command = Database.CreateCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.AddWithValue(value);
        }
        var result = await command.ExecuteScalarAsync();
        return result is null or DBNull ? default : (T)result;
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
        await Database.DisposeAsync();
        await TestServers.DeleteVirtualHostAsync(RabbitMq);
        await TestServers.DropDatabaseAsync(Postgres);
        _artifacts.Dispose();
    }
}

