using System.Globalization;
using BuildFarm.Testing;
using BuildFarm.Worker.Builds;
using Npgsql;

namespace BuildFarm.Worker.Tests;

/// <summary>
/// A spec file is a stranger's program: its %install runs here with hostile intent, through the real sandbox
/// (bubblewrap as the unprivileged build user, cgroup limits), and the test checks from outside what it could do.
/// </summary>
public sealed class Running_hostile_build_code : IAsyncLifetime
{
    private readonly GitRepository _repository = new();
    private readonly List<TestWorker> _workers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Runs_as_an_unprivileged_user_with_only_the_allowlisted_environment()
    {
        var worker = Worker();
        Environment.SetEnvironmentVariable("BUILDFARM_TEST_SECRET", "s3cret-password");
        BuildRunFinished finished;
        try
        {
            finished = await BuildAsync(worker, """
                echo "uid=$(id -u) gid=$(id -g)"
                echo "names: $(env | sed 's/=.*//' | sort | tr '\n' ' ')"
                env
                """);
        }
        finally
        {
            Environment.SetEnvironmentVariable("BUILDFARM_TEST_SECRET", null);
        }

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        var log = Stdout(worker, finished);
        var uid = int.Parse(Between(log, "uid=", " "), CultureInfo.InvariantCulture);
        Assert.NotEqual(0, uid);
        Assert.DoesNotContain("s3cret-password", log);
        Assert.DoesNotContain("BUILDFARM_TEST", log);
        Assert.DoesNotContain("ConnectionStrings", log);
        Assert.DoesNotContain("SigningKey", log);
        Assert.DoesNotContain(new NpgsqlConnectionStringBuilder(TestServers.Postgres).Host + ";", log);
        Assert.Contains(" PATH ", Between(log, "names: ", "\n") + " ");
    }

    [Fact]
    public async Task Cannot_connect_to_the_farms_servers_on_loopback()
    {
        var worker = Worker();
        var ports = new[]
        {
            new NpgsqlConnectionStringBuilder(TestServers.Postgres).Port,
            int.Parse(TestServers.Redis.Split(':')[^1], CultureInfo.InvariantCulture),
            TestServers.RabbitMq.Port,
        };
        var probes = string.Join("\n", ports.Select(p =>
            $"if (exec 3<>/dev/tcp/127.0.0.1/{p}) 2>/dev/null; then echo reached-{p}; else echo refused-{p}; fi"));

        var finished = await BuildAsync(worker, probes);

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        var log = Stdout(worker, finished);
        Assert.All(ports, p => Assert.Contains($"refused-{p}", log));
        Assert.DoesNotContain("reached-", log);
        // The same probe from the test process reaches them: the servers were there to be reached.
        Assert.All(ports, p =>
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect("127.0.0.1", p);
        });
    }

    [Fact]
    public async Task Cannot_write_outside_its_workspace_nor_into_the_artifact_store()
    {
        var worker = Worker();
        var options = worker.Get<Microsoft.Extensions.Options.IOptions<WorkerOptions>>().Value;
        var marker = Guid.NewGuid().ToString("N");
        var targets = new[]
        {
            Path.Combine(options.ArtifactStore, marker),
            Path.Combine(options.WorkspaceRoot, marker),
            Path.Combine(worker.Directories.Path, marker),
            "/etc/" + marker,
            "/var/tmp/" + marker,
        };
        var attempts = string.Join("\n", targets.Select((t, i) => $"if echo x > {t}; then echo wrote-{i}; else echo refused-{i}; fi"));

        var finished = await BuildAsync(worker, attempts);

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        var log = Stdout(worker, finished);
        Assert.All(targets, t => Assert.False(File.Exists(t), $"{t} was written by the build"));
        Assert.Contains("refused-0", log); // the store is not there to write
        Assert.Contains("refused-3", log); // the system is read-only
        // (/tmp and /var/tmp are the build's own: what it writes there is gone with it.)
    }

    [Fact]
    public async Task A_daemon_it_leaves_behind_is_gone_when_the_build_ends()
    {
        var worker = Worker();
        var marker = "bfdaemon" + Guid.NewGuid().ToString("N");

        var finished = await BuildAsync(worker, $"setsid sh -c 'sleep 600; echo {marker}' > /dev/null 2>&1 < /dev/null &\nsleep 0.5\necho started");

        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.Contains("started", Stdout(worker, finished));
        Assert.Empty(ProcessesWith(marker));
    }

    [Theory]
    [InlineData("fork bomb", "for i in $(seq 300); do sleep 30 & done 2>/dev/null\nwait", "the build exceeded its process limit (48 processes)")]
    [InlineData("memory hog", "head -c 600M /dev/zero | tail > /dev/null", "the build exceeded its memory limit (96 MiB)")]
    public async Task A_build_over_a_limit_fails_naming_it_and_the_worker_goes_on(string what, string install, string reason)
    {
        var worker = Worker(o =>
        {
            o.Sandbox.ProcessLimit = 48;
            o.Sandbox.MemoryLimitMiB = 96;
        });

        var over = await BuildAsync(worker, install);
        var next = await BuildAsync(worker, "echo fine");

        Assert.True(over.Outcome == BuildRunOutcome.BuildFailed, $"the {what} ended {over.Outcome}: {over.Reason}");
        Assert.Equal(reason, over.Reason);
        Assert.Equal(BuildRunOutcome.Succeeded, next.Outcome);
    }

    [Fact]
    public async Task A_build_that_spins_fails_naming_the_cpu_time_limit()
    {
        var worker = Worker(o => o.Sandbox.CpuTimeLimitSeconds = 2);

        var spin = await BuildAsync(worker, "end=$(( $(date +%s) + 30 )); while [ $(date +%s) -lt $end ]; do :; done");

        Assert.Equal(BuildRunOutcome.BuildFailed, spin.Outcome);
        Assert.Equal("the build exceeded its CPU time limit (2 s)", spin.Reason);
    }

    [Fact]
    public async Task A_package_that_is_a_link_to_a_host_file_is_refused()
    {
        var worker = Worker();

        var finished = await BuildAsync(worker, "mkdir -p %{_topdir}/RPMS/noarch\nln -s /etc/passwd %{_topdir}/RPMS/noarch/zz-passwd.noarch.rpm");

        Assert.Equal(BuildRunOutcome.BuildFailed, finished.Outcome);
        Assert.Contains("zz-passwd.noarch.rpm is a symbolic link", finished.Reason);
        Assert.DoesNotContain(finished.Artifacts, a => a.Name.Contains("passwd", StringComparison.Ordinal));
    }

    private TestWorker Worker(Action<WorkerOptions>? configure = null)
    {
        var worker = new TestWorker(configure);
        _workers.Add(worker);
        return worker;
    }

    private async Task<BuildRunFinished> BuildAsync(TestWorker worker, string install)
    {
        _repository.Commit("hello.spec", GitRepository.Spec("1." + _workers.Count + Random.Shared.Next(1000), install), "hostile");
        return await worker.BuildAsync(TestWorker.Request(_repository.Url, _repository.Head), TimeSpan.FromSeconds(120));
    }

    private static string Stdout(TestWorker worker, BuildRunFinished finished) =>
        string.Concat(worker.Events.Log(finished.BuildId, "stdout").OrderBy(l => l.Sequence).Select(l => l.Text));

    private static string Between(string text, string start, string end)
    {
        var from = text.IndexOf(start, StringComparison.Ordinal);
        Assert.True(from >= 0, $"'{start}' not in the log:\n{text}");
        from += start.Length;
        var to = text.IndexOf(end, from, StringComparison.Ordinal);
        return to < 0 ? text[from..] : text[from..to];
    }

    private static List<int> ProcessesWith(string marker)
    {
        var found = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(Path.Combine(directory, "cmdline")).Contains(marker, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // ended meanwhile
            }
        }
        return found;
    }

    public async Task DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.DisposeAsync();
        }
        _repository.Dispose();
    }
}
