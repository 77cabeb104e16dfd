using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using BuildFarm.Bench;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Testing;
using Npgsql;

namespace BuildFarm.Chaos;

/// <summary>
/// The run's farm: Settings, two Schedulers, three Workers (each its own server id, capacity
/// <see cref="ChaosPlan.WorkerCapacity"/>) and Submission as real processes from the build output, each service
/// connecting to RabbitMQ as its own user with the permissions of scripts/rabbitmq-permissions.tsv, as ./farm up does.
/// Builds run in the stand-in mock, which records them in the run's ledger.
/// </summary>
internal sealed class ChaosFarm(FarmServers servers, string temp, string runId, Action<string> say) : IAsyncDisposable
{
    private readonly Dictionary<string, string> _environment = [];
    private readonly Dictionary<string, Uri> _busUsers = [];
    private readonly Dictionary<string, ServiceProcess> _services = [];
    private readonly object _gate = new();

    public string SigningKey { get; } = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(36));
    public string ArtifactStore => Path.Combine(temp, "artifacts");
    public string Ledger => Path.Combine(temp, "ledger", "ledger.jsonl");
    public string RepositoryUrl { get; private set; } = "";
    public string Commit { get; private set; } = "";
    public string Postgres => servers.Postgres("buildfarm");

    public static IReadOnlyList<string> Roles { get; } =
        ["settings", .. ChaosPlan.Schedulers, .. ChaosPlan.Workers, "submission"];

    public static string WorkerDirectory(string temp, string worker) => Path.Combine(temp, worker);
    public string WorkspaceRoot(string worker) => Path.Combine(WorkerDirectory(temp, worker), "workspaces");
    public string MockRoots(string worker) => Path.Combine(WorkerDirectory(temp, worker), "mock-roots");

    /// <summary>The service's current process (a restart replaces it, on a new port).</summary>
    public ServiceProcess this[string role]
    {
        get
        {
            lock (_gate)
            {
                return _services[role];
            }
        }
    }

    public Uri SubmissionUrl => this["submission"].Url;
    public Uri SettingsUrl => this["settings"].Url;

    public async Task PrepareAsync(IReadOnlyList<PlannedBuild> builds)
    {
        // The test support's helpers (virtual host, bus users) talk to the servers these variables name: ours.
        Environment.SetEnvironmentVariable("BUILDFARM_TEST_RABBITMQ", servers.RabbitMq.ToString());
        Environment.SetEnvironmentVariable("BUILDFARM_TEST_RABBITMQ_MANAGEMENT", servers.Management.ToString());
        await using (var connection = new NpgsqlConnection(servers.Postgres("postgres")))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("CREATE DATABASE buildfarm", connection);
            await command.ExecuteNonQueryAsync();
        }
        var vhost = await TestServers.CreateVirtualHostAsync("chaos");
        _busUsers["settings"] = await TestServers.BusUserAsync(vhost, "settings");
        _busUsers["submission"] = await TestServers.BusUserAsync(vhost, "submission");
        _busUsers["scheduler"] = await TestServers.BusUserAsync(vhost, "scheduler");
        foreach (var worker in ChaosPlan.Workers)
        {
            _busUsers[worker] = await TestServers.BusUserAsync(vhost, "worker", worker);
        }

        // The build user must reach workspaces, mock roots and the ledger, as on a farm host.
        Directory.CreateDirectory(ArtifactStore);
        Directory.CreateDirectory(Path.GetDirectoryName(Ledger)!);
        File.WriteAllText(Ledger, "");
        File.SetUnixFileMode(Ledger, (UnixFileMode)0b110_110_110);
        foreach (var worker in ChaosPlan.Workers)
        {
            Directory.CreateDirectory(MockRoots(worker));
            File.SetUnixFileMode(WorkerDirectory(temp, worker), (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(MockRoots(worker), (UnixFileMode)0b1_111_111_111);
        }

        // One repository, one commit, a spec per build.
        var source = Path.Combine(temp, "repo", "src");
        Directory.CreateDirectory(source);
        foreach (var build in builds)
        {
            File.WriteAllText(Path.Combine(source, build.SpecPath), build.Spec());
        }
        var bare = Path.Combine(temp, "repo", "chaos.git");
        Commit = Repository.MakeGitRepository(source, bare);
        RepositoryUrl = "file://" + bare;

        _environment["ConnectionStrings__Postgres"] = Postgres;
        _environment["ConnectionStrings__Redis"] = servers.Redis;
        _environment["Auth__SigningKey"] = SigningKey;
        _environment["Farm__AllowFileRepositories"] = "true";
        _environment["Farm__ArtifactStore"] = ArtifactStore;
        _environment["Scheduler__RetryBaseDelay"] = "00:00:01";
        _environment["Worker__ArtifactStore"] = ArtifactStore;
        _environment["Worker__AllowFileRepositories"] = "true";
        _environment["Worker__MaxConcurrentBuilds"] = ChaosPlan.WorkerCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _environment["Worker__MockCommand"] = Repository.StandInMock;
        _environment["Worker__MockConfigs__0"] = "fedora-40-x86_64";
        _environment["Worker__Architectures__0"] = "x86_64";
        _environment["Worker__BuildEnvironment__CHAOS_LEDGER"] = Ledger;
        // Every build process carries this variable: one still running after the run is a process left behind.
        _environment["Worker__BuildEnvironment__CHAOS_RUN"] = runId;
    }

    /// <summary>Starts the whole farm: Settings (and the farm-wide limit), the Schedulers, then the Workers and Submission.</summary>
    public async Task StartAsync()
    {
        await StartAsync("settings");
        await SetLimitAsync();
        await StartAsync(ChaosPlan.Schedulers[0]);
        await Task.WhenAll(ChaosPlan.Schedulers.Skip(1).Concat(ChaosPlan.Workers).Append("submission").Select(StartAsync));
    }

    /// <summary>The farm-wide limit and, on this loaded 2-core machine, no CPU threshold (it would hold builds back at random).</summary>
    private async Task SetLimitAsync()
    {
        using var admin = Client("chaos-admin", FarmRoles.Admin);
        var body = $"{{\"maxConcurrentBuilds\": {ChaosPlan.FarmLimit}, \"utilizationThresholdPercent\": 100}}";
        using var patch = new StringContent(body, Encoding.UTF8, "application/merge-patch+json");
        var response = await admin.PatchAsync(new Uri(SettingsUrl, "/api/settings"), patch);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"setting the farm-wide limit failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    public async Task StartAsync(string role)
    {
        var settings = new Dictionary<string, string>(_environment);
        string name;
        if (role.StartsWith("chaos-w", StringComparison.Ordinal))
        {
            name = "Worker";
            // The Worker, which runs strangers' build code, gets neither the database nor the signing key (as ./farm up starts it).
            foreach (var key in settings.Keys.Where(k => k.StartsWith("Auth__", StringComparison.Ordinal)
                         || k.StartsWith("Farm__", StringComparison.Ordinal) || k == "ConnectionStrings__Postgres").ToList())
            {
                settings.Remove(key);
            }
            settings["Worker__ServerId"] = role;
            settings["Worker__WorkspaceRoot"] = WorkspaceRoot(role);
            settings["Worker__BuildEnvironment__MOCK_ROOT_BASE"] = MockRoots(role);
            settings["Worker__BuildEnvironment__CHAOS_SERVER"] = role;
            settings["ConnectionStrings__RabbitMq"] = _busUsers[role].ToString();
        }
        else
        {
            name = role.StartsWith("scheduler", StringComparison.Ordinal) ? "Scheduler" : role == "settings" ? "Settings" : "Submission";
            settings["ConnectionStrings__RabbitMq"] = _busUsers[name.ToLowerInvariant()].ToString();
        }
        var process = await ServiceProcess.StartAsync(name, settings);
        lock (_gate)
        {
            _services[role] = process;
        }
        say($"{role} started (pid {process.Pid}, {process.Url})");
    }

    /// <summary>SIGKILL: no shutdown, no clean-up.</summary>
    public async Task KillAsync(string role)
    {
        var process = this[role];
        await process.KillAsync();
        await process.DisposeAsync();
    }

    public Task PauseAsync(string role) => SignalAsync(this[role].Pid, "STOP");

    public Task ContinueAsync(string role) => SignalAsync(this[role].Pid, "CONT");

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {pid} failed");
        }
    }

    public HttpClient Client(string user, string role)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", FarmTokens.Create(SigningKey, user, role, TimeSpan.FromHours(12)));
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        List<ServiceProcess> all;
        lock (_gate)
        {
            all = [.. _services.Values];
            _services.Clear();
        }
        foreach (var service in all)
        {
            try
            {
                await SignalAsync(service.Pid, "CONT");
            }
            catch (InvalidOperationException)
            {
            }
            await service.DisposeAsync();
        }
    }
}
