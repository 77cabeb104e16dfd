using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using BuildFarm.Bench;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Testing;
using Npgsql;

namespace BuildFarm.Farm.Bench;

/// <summary>
/// One farm of the benchmark on the run's servers: a database and a RabbitMQ virtual host of its own, Settings, one
/// Scheduler, Submission and <c>workers</c> Workers (x86_64, mock:fedora-40-x86_64, each <c>capacity</c> slots) as
/// real processes from the Release build, each on the bus as its own user (scripts/rabbitmq-permissions.tsv), as
/// <c>./farm up</c> starts them. Builds run in bench/Farm/noop-mock, which writes when each build process started and
/// ended to the farm's ledger. The services log at Warning: console output is not what is measured.
/// </summary>
internal sealed class BenchFarm(FarmServers servers, string temp, string name, Action<string> say) : IAsyncDisposable
{
    public const string Architecture = "x86_64";
    public const string Toolchain = "mock:fedora-40-x86_64";

    /// <summary>An architecture no server of the bench has: builds for it stay queued.</summary>
    public const string UnservedArchitecture = "s390x";
    public const string UnservedToolchain = "mock:fedora-40-s390x";

    private readonly Dictionary<string, string> _environment = [];
    private readonly Dictionary<string, Uri> _busUsers = [];
    private readonly List<(string Role, ServiceProcess Process)> _services = [];
    private readonly string _signingKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(36));
    private readonly string _directory = Path.Combine(temp, name);

    public string Name => name;
    public Uri VirtualHost { get; private set; } = null!;
    public string Database => servers.Postgres(name);
    public string Ledger => Path.Combine(_directory, "ledger", "ledger.txt");
    public string RepositoryUrl { get; private set; } = "";
    public string Commit { get; private set; } = "";
    public Uri SubmissionUrl => Service("submission").Url;
    public Uri SettingsUrl => Service("settings").Url;
    public IReadOnlyList<ServiceProcess> Workers => [.. _services.Where(s => s.Role.StartsWith("worker", StringComparison.Ordinal)).Select(s => s.Process)];
    public ServiceProcess Scheduler => Service("scheduler");

    private ServiceProcess Service(string role) => _services.First(s => s.Role == role).Process;

    /// <summary>Creates the database, virtual host, bus users, ledger and a git repository holding <paramref name="specs"/>.</summary>
    public async Task PrepareAsync(IReadOnlyDictionary<string, string> specs, int workers, int capacity, IReadOnlyDictionary<string, string>? extra = null)
    {
        await using (var connection = new NpgsqlConnection(servers.Postgres("postgres")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }
        VirtualHost = await TestServers.CreateVirtualHostAsync(name);
        _busUsers["settings"] = await TestServers.BusUserAsync(VirtualHost, "settings");
        _busUsers["submission"] = await TestServers.BusUserAsync(VirtualHost, "submission");
        _busUsers["scheduler"] = await TestServers.BusUserAsync(VirtualHost, "scheduler");
        for (var i = 1; i <= workers; i++)
        {
            _busUsers[$"worker{i}"] = await TestServers.BusUserAsync(VirtualHost, "worker", ServerId(i));
        }

        // The build user must reach the mock, the workspaces and the ledger, as on a farm host.
        Directory.CreateDirectory(_directory);
        File.SetUnixFileMode(_directory, (UnixFileMode)0b111_101_101);
        Directory.CreateDirectory(Path.GetDirectoryName(Ledger)!);
        File.SetUnixFileMode(Path.GetDirectoryName(Ledger)!, (UnixFileMode)0b111_101_101);
        File.WriteAllText(Ledger, "");
        File.SetUnixFileMode(Ledger, (UnixFileMode)0b110_110_110);
        var mock = Path.Combine(_directory, "noop-mock");
        File.Copy(Path.Combine(AppContext.BaseDirectory, "noop-mock"), mock, overwrite: true);
        File.SetUnixFileMode(mock, (UnixFileMode)0b111_101_101);

        var source = Path.Combine(_directory, "repo", "src");
        Directory.CreateDirectory(source);
        foreach (var (file, text) in specs)
        {
            File.WriteAllText(Path.Combine(source, file), text);
        }
        var bare = Path.Combine(_directory, "repo", "bench.git");
        Commit = Repository.MakeGitRepository(source, bare);
        RepositoryUrl = "file://" + bare;

        _environment["ConnectionStrings__Postgres"] = Database;
        _environment["ConnectionStrings__Redis"] = servers.Redis;
        _environment["Auth__SigningKey"] = _signingKey;
        _environment["Farm__AllowFileRepositories"] = "true";
        _environment["Farm__ArtifactStore"] = Path.Combine(_directory, "artifacts");
        _environment["Worker__ArtifactStore"] = Path.Combine(_directory, "artifacts");
        _environment["Worker__AllowFileRepositories"] = "true";
        _environment["Worker__MaxConcurrentBuilds"] = capacity.ToString(CultureInfo.InvariantCulture);
        _environment["Worker__MockCommand"] = mock;
        _environment["Worker__MockConfigs__0"] = "fedora-40-x86_64";
        _environment["Worker__Architectures__0"] = Architecture;
        _environment["Worker__BuildEnvironment__BENCH_LEDGER"] = Ledger;
        _environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            _environment[key] = value;
        }
        _workers = workers;
    }

    private int _workers;

    public static string ServerId(int i) => $"bench-w{i}";

    /// <summary>
    /// Starts Settings, sets <paramref name="settings"/> (a JSON merge patch), then the Scheduler (with the extra
    /// environment <paramref name="scheduler"/>), the Workers and Submission.
    /// </summary>
    public async Task StartAsync(string settings, IReadOnlyDictionary<string, string> scheduler)
    {
        await StartAsync("settings", "Settings", _environment);
        await PatchSettingsAsync(settings);
        await StartAsync("scheduler", "Scheduler", new Dictionary<string, string>(_environment.Concat(scheduler)));
        var starts = new List<Task>();
        for (var i = 1; i <= _workers; i++)
        {
            var worker = new Dictionary<string, string>(_environment);
            // The Worker, which runs strangers' build code, gets neither the database nor the signing key (as ./farm up starts it).
            foreach (var key in worker.Keys.Where(k => k.StartsWith("Auth__", StringComparison.Ordinal)
                         || k.StartsWith("Farm__", StringComparison.Ordinal) || k == "ConnectionStrings__Postgres").ToList())
            {
                worker.Remove(key);
            }
            worker["Worker__ServerId"] = ServerId(i);
            worker["Worker__WorkspaceRoot"] = Path.Combine(_directory, ServerId(i), "workspaces");
            worker["ConnectionStrings__RabbitMq"] = _busUsers[$"worker{i}"].ToString();
            starts.Add(StartAsync($"worker{i}", "Worker", worker));
        }
        starts.Add(StartAsync("submission", "Submission", _environment));
        await Task.WhenAll(starts);
    }

    private async Task StartAsync(string role, string project, IReadOnlyDictionary<string, string> environment)
    {
        var settings = new Dictionary<string, string>(environment);
        if (!settings.ContainsKey("ConnectionStrings__RabbitMq"))
        {
            settings["ConnectionStrings__RabbitMq"] = _busUsers[role].ToString();
        }
        var process = await ServiceProcess.StartAsync(project, settings);
        lock (_services)
        {
            _services.Add((role, process));
        }
        say($"{name}: {role} started (pid {process.Pid}, {process.Url})");
    }

    /// <summary>Changes farm settings (a JSON merge patch) and waits a moment for every service to apply them.</summary>
    public async Task PatchSettingsAsync(string patch)
    {
        using var admin = Client("bench-admin", FarmRoles.Admin);
        using var content = new StringContent(patch, Encoding.UTF8, "application/merge-patch+json");
        using var response = await admin.PatchAsync(new Uri(SettingsUrl, "/api/settings"), content);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"PATCH /api/settings {patch} failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        // SettingsChanged and ConcurrencyLimitChanged travel over the bus; the semaphore's limit is set in Redis.
        await Task.Delay(TimeSpan.FromSeconds(1));
    }

    public HttpClient Client(string user, string role)
    {
        var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(10) }) { Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FarmTokens.Create(_signingKey, user, role, TimeSpan.FromHours(12)));
        return http;
    }

    /// <summary>The request body of a build of <paramref name="spec"/>.</summary>
    public object Build(string spec, bool served = true) => new
    {
        sourceRepository = RepositoryUrl,
        branch = "main",
        commitHash = Commit,
        targetArchitecture = served ? Architecture : UnservedArchitecture,
        toolchain = served ? Toolchain : UnservedToolchain,
        specPath = spec,
        priority = "normal",
    };

    public async ValueTask DisposeAsync()
    {
        List<ServiceProcess> all;
        lock (_services)
        {
            all = [.. _services.Select(s => s.Process)];
            _services.Clear();
        }
        await Task.WhenAll(all.Select(s => s.DisposeAsync().AsTask()));
    }
}
