using System.Net.Http.Json;
using System.Net.Http.Headers;
using System.Text.Json;
using BuildFarm.ServiceDefaults.Auth;

namespace BuildFarm.EndToEnd.Tests;

/// <summary>
/// A whole farm for one test class: Scheduler, one Worker and Submission as real processes, on a
/// database, a RabbitMQ virtual host and a Redis key prefix of their own, with the stand-in mock and
/// the real rpmbuild.
/// </summary>
public class Farm : IAsyncLifetime
{
    private readonly Dictionary<string, string> environment = [];
    private readonly Dictionary<string, Uri> busUsers = [];
    private string database = "";
    private Uri vhost = null!;

    /// <summary>The farm's RabbitMQ virtual host, as guest (who may do anything there, as no farm user may).</summary>
    public Uri VirtualHost => vhost;

    public string Temp { get; } = Directory.CreateTempSubdirectory("bf-e2e-").FullName;
    public string ServerId { get; } = "e2e-" + Guid.NewGuid().ToString("N")[..8];
    public string SigningKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(36));
    public ServiceProcess Settings { get; private set; } = null!;
    public ServiceProcess Scheduler { get; private set; } = null!;
    public ServiceProcess Worker { get; private set; } = null!;
    public ServiceProcess Submission { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string PostgresConnectionString => database;

    /// <summary>The directory Submission serves artifacts from and the Worker stores them in.</summary>
    public string ArtifactStore => Path.Combine(Temp, "artifacts");

    /// <summary>The connection string the services get for <paramref name="database"/> (the same, unless a farm puts something between).</summary>
    protected virtual string ServicesPostgres(string database) => database;

    /// <summary>Seconds the stand-in mock spends "building", so a test can act while a build runs.</summary>
    protected virtual int MockSeconds => 0;

    /// <summary>Settings of this farm's own beyond the common ones (service environment variables).</summary>
    protected virtual void Configure(IDictionary<string, string> settings)
    {
    }

    /// <summary>The RabbitMQ URI a service gets (the same, unless a farm puts something between).</summary>
    protected virtual Uri ServicesBus(string service, Uri uri) => uri;

    /// <summary>Changes a setting for the services started from now on (say a Worker started again).</summary>
    public void Set(string key, string value) => environment[key] = value;

    public async Task InitializeAsync()
    {
        database = await TestServers.CreateDatabaseAsync("e2e");
        vhost = await TestServers.CreateVirtualHostAsync("e2e");
        var artifacts = Path.Combine(Temp, "artifacts");
        environment["ConnectionStrings__Postgres"] = ServicesPostgres(database);
        // Each service connects as its own RabbitMQ user with the permissions ./farm up gives it, and checks senders.
        busUsers["Settings"] = await TestServers.BusUserAsync(vhost, "settings");
        busUsers["Scheduler"] = await TestServers.BusUserAsync(vhost, "scheduler");
        busUsers["Submission"] = await TestServers.BusUserAsync(vhost, "submission");
        busUsers["Worker"] = await TestServers.BusUserAsync(vhost, "worker", ServerId);
        environment["ConnectionStrings__Redis"] = TestServers.Redis;
        environment["Semaphore__KeyPrefix"] = "bf-e2e-" + ServerId;
        environment["Auth__SigningKey"] = SigningKey;
        environment["Farm__AllowFileRepositories"] = "true";
        environment["Farm__ArtifactStore"] = artifacts;
        environment["Scheduler__MonitorInterval"] = "00:00:00.250";
        environment["Scheduler__RetryBaseDelay"] = "00:00:00.500";
        environment["Worker__ServerId"] = ServerId;
        environment["Worker__WorkspaceRoot"] = Path.Combine(Temp, "workspaces");
        environment["Worker__ArtifactStore"] = artifacts;
        environment["Worker__AllowFileRepositories"] = "true";
        environment["Worker__HeartbeatInterval"] = "00:00:01";
        environment["Worker__MockCommand"] = Repository.StandInMock;
        environment["Worker__MockConfigs__0"] = "fedora-40-x86_64";
        environment["Worker__BuildEnvironment__MOCK_ROOT_BASE"] = Path.Combine(Temp, "mock-roots");
        // The build user must reach its workspace and mock's roots, as on a farm host.
        Directory.CreateDirectory(Path.Combine(Temp, "mock-roots"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Temp, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(Path.Combine(Temp, "mock-roots"), (UnixFileMode)0b1_111_111_111);
        }
        environment["Worker__BuildEnvironment__MOCK_SLEEP"] = MockSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Configure(environment);

        Settings = await StartAsync("Settings");
        // The tests load this 2-core machine fully: a CPU threshold would hold builds back at random.
        using (var admin = Client(Settings, "root", FarmRoles.Admin))
        using (var patch = new StringContent("{\"utilizationThresholdPercent\": 100}", System.Text.Encoding.UTF8, "application/merge-patch+json"))
        {
            var response = await admin.PatchAsync("/api/settings", patch);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
        Scheduler = await StartAsync("Scheduler");
        Worker = await StartAsync("Worker");
        Submission = await StartAsync("Submission");
        Http = Client(Submission, "alice", FarmRoles.Submitter);
    }

    /// <summary>
    /// Starts a service with the settings it uses: the Worker, which runs strangers' build code, gets neither the
    /// database nor the key that signs the farm's tokens (as <c>./farm up</c> starts it).
    /// </summary>
    public Task<ServiceProcess> StartAsync(string name)
    {
        var settings = name == "Worker"
            ? environment.Where(e => !e.Key.StartsWith("Auth__", StringComparison.Ordinal)
                    && !e.Key.StartsWith("Farm__", StringComparison.Ordinal) && e.Key != "ConnectionStrings__Postgres")
                .ToDictionary()
            : new Dictionary<string, string>(environment);
        settings["ConnectionStrings__RabbitMq"] = ServicesBus(name, busUsers[name]).ToString();
        return ServiceProcess.StartAsync(name, settings);
    }

    /// <summary>An HTTP client for <paramref name="service"/> with a token for <paramref name="user"/> in <paramref name="role"/> (none when null).</summary>
    public HttpClient Client(ServiceProcess service, string user, string? role)
    {
        var http = new HttpClient { BaseAddress = service.Url, Timeout = TimeSpan.FromSeconds(30) };
        if (role is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FarmTokens.Create(SigningKey, user, role, TimeSpan.FromHours(1)));
        }
        return http;
    }

    /// <summary>Kills the Scheduler as kill -9 would and starts a new one on the same state.</summary>
    public async Task RestartSchedulerAsync()
    {
        await Scheduler.KillAsync();
        await Scheduler.DisposeAsync();
        Scheduler = await StartAsync("Scheduler");
    }

    /// <summary>Kills the Worker as kill -9 would; <see cref="StartWorkerAsync"/> starts a new one on the same server id.</summary>
    public async Task KillWorkerAsync()
    {
        await Worker.KillAsync();
        await Worker.DisposeAsync();
    }

    public async Task StartWorkerAsync() => Worker = await StartAsync("Worker");

    /// <summary>A bare git repository made from a folder under samples/ (or any folder); returns its URL and commit.</summary>
    public (string Url, string Commit) Repo(string sourceDir)
    {
        var dir = Path.Combine(Temp, "repos", Path.GetFileName(sourceDir) + "-" + Guid.NewGuid().ToString("N")[..6] + ".git");
        var commit = Repository.MakeGitRepository(sourceDir, dir);
        return ("file://" + dir, commit);
    }

    public async Task<JsonElement> SubmitAsync(object body)
    {
        var response = await Http.PostAsJsonAsync("/api/v1/builds", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async Task<JsonElement> GetBuildAsync(Guid id)
    {
        var response = await Http.GetAsync($"/api/v1/builds/{id}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Polls the build until it is in one of <paramref name="states"/>; fails with the farm's logs after two minutes.</summary>
    public async Task<JsonElement> WaitForStateAsync(Guid id, params string[] states)
    {
        JsonElement build = default;
        await Eventually.HoldsAsync(async () =>
            {
                build = await GetBuildAsync(id);
                return states.Contains(build.GetProperty("state").GetString());
            },
            $"build {id} reaches {string.Join("/", states)}", TimeSpan.FromMinutes(2), () => $"last seen: {build}\n{Logs()}");
        return build;
    }

    /// <summary>The tails of every service's output, for failure messages.</summary>
    public string Logs() =>
        $"--- Scheduler:\n{Scheduler.Tail}\n--- Worker:\n{Worker.Tail}\n--- Submission:\n{Submission.Tail}\n--- Settings:\n{Settings.Tail}";

    public virtual async Task DisposeAsync()
    {
        Http?.Dispose();
        foreach (var service in new[] { Submission, Worker, Scheduler, Settings })
        {
            if (service is not null)
            {
                await service.DisposeAsync();
            }
        }
        await TestServers.DeleteVirtualHostAsync(vhost);
        await TestServers.DropDatabaseAsync(database);
        try
        {
            Directory.Delete(Temp, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>A farm whose stand-in mock builds take a few seconds.</summary>
public sealed class SlowMockFarm : Farm
{
    protected override int MockSeconds => 6;
}

/// <summary>A farm whose services reach PostgreSQL through a <see cref="TcpProxy"/> the test can cut (the test itself goes direct).</summary>
public sealed class DatabaseOutageFarm : Farm
{
    public TcpProxy Database { get; private set; } = null!;

    protected override int MockSeconds => 6;

    protected override string ServicesPostgres(string database)
    {
        var direct = new Npgsql.NpgsqlConnectionStringBuilder(database);
        Database = new TcpProxy(direct.Host!, direct.Port);
        return new Npgsql.NpgsqlConnectionStringBuilder(database) { Host = "127.0.0.1", Port = Database.Port }.ConnectionString;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Database.DisposeAsync();
    }
}


/// <summary>
/// A farm whose stand-in mock builds run long and write their pids, so a test can kill the Worker mid-build, and whose
/// Worker heartbeats every 20 s, so it is back before the Scheduler misses three heartbeats.
/// </summary>
public sealed class WorkerCrashFarm : Farm
{
    public string PidDirectory => Path.Combine(Temp, "pids");

    protected override int MockSeconds => 300;

    protected override void Configure(IDictionary<string, string> settings)
    {
        Directory.CreateDirectory(PidDirectory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(PidDirectory, (UnixFileMode)0b1_111_111_111);
        }
        settings["Worker__BuildEnvironment__MOCK_PID_DIR"] = PidDirectory;
        // A Worker restarted within three heartbeats, as a supervisor restarts it (starting one takes seconds here).
        settings["Worker__HeartbeatInterval"] = "00:00:20";
    }
}

/// <summary>
/// A farm whose Worker reaches RabbitMQ through a <see cref="TcpProxy"/> the test can cut (the other services go direct),
/// with heartbeats every 20 s so that a cut shorter than a minute (three intervals; the build's end, slow on a loaded
/// machine, takes well under that) does not make the server lost, as a partition that long would; mock prints 1 MiB of numbered lines
/// in each of its two runs.
/// </summary>
public sealed class WorkerBusOutageFarm : Farm
{
    public TcpProxy WorkerBus { get; private set; } = null!;

    protected override int MockSeconds => 3;

    protected override void Configure(IDictionary<string, string> settings)
    {
        settings["Worker__HeartbeatInterval"] = "00:00:20";
        settings["Worker__BuildEnvironment__MOCK_SPAM_MB"] = "1";
    }

    protected override Uri ServicesBus(string service, Uri uri)
    {
        if (service != "Worker")
        {
            return uri;
        }
        WorkerBus ??= new TcpProxy(uri.Host, uri.Port);
        return new UriBuilder(uri) { Host = "127.0.0.1", Port = WorkerBus.Port }.Uri;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (WorkerBus is not null)
        {
            await WorkerBus.DisposeAsync();
        }
    }
}
