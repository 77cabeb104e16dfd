using System.ComponentModel.DataAnnotations;

namespace BuildFarm.Worker;

/// <summary>A build server's settings (configuration section <c>Worker</c>), validated at start.</summary>
public sealed class WorkerOptions : IValidatableObject
{
    public const string SectionName = "Worker";

    /// <summary>This server's id: lower-case letters, digits, '.', '_', '-'. Defaults to the machine name.</summary>
    [Required]
    [RegularExpression("^[a-z0-9][a-z0-9._-]{0,62}$", ErrorMessage = "Worker:ServerId must be lower-case letters, digits, '.', '_' or '-' (at most 63).")]
    public string ServerId { get; set; } = DefaultServerId();

    /// <summary>Architectures this server builds for; empty means the host's (from the runtime). "noarch" is always added.</summary>
    public List<string> Architectures { get; set; } = [];

    /// <summary>The mock configurations this server offers (as mock:&lt;config&gt;) when a mock executable is found.</summary>
    public List<string> MockConfigs { get; set; } = [];

    /// <summary>The mock executable: a name looked up on PATH or a path.</summary>
    [Required(AllowEmptyStrings = false)]
    public string MockCommand { get; set; } = "mock";

    /// <summary>The rpmbuild executable: a name looked up on PATH or a path.</summary>
    [Required(AllowEmptyStrings = false)]
    public string RpmbuildCommand { get; set; } = "rpmbuild";

    /// <summary>The git executable: a name looked up on PATH or a path.</summary>
    [Required(AllowEmptyStrings = false)]
    public string GitCommand { get; set; } = "git";

    /// <summary>Builds run at once on this server; more dispatches wait in the process.</summary>
    [Range(1, 256)]
    public int MaxConcurrentBuilds { get; set; } = 4;

    /// <summary>Where per-build workspaces ({buildId}-{attempt}) are made and removed.</summary>
    [Required(AllowEmptyStrings = false)]
    public string WorkspaceRoot { get; set; } = Path.Combine(Path.GetTempPath(), "buildfarm", "workspaces");

    /// <summary>
    /// Where the mirror clones of the repositories this server builds are kept (one bare mirror per repository,
    /// named by a hash of its URL). Empty means <c>repositories</c> beside <see cref="WorkspaceRoot"/>.
    /// </summary>
    public string? RepositoryCacheRoot { get; set; }

    /// <summary>
    /// This server's own state on disk: the spool of results and log batches not yet confirmed by the broker, and the
    /// record of the attempts under way (what a restarted Worker sweeps). Empty means <c>state/{ServerId}</c> beside
    /// <see cref="WorkspaceRoot"/>. Never shared by two servers.
    /// </summary>
    public string? StateRoot { get; set; }

    /// <summary>Most bytes the spool holds before a build's log waits for the broker (results always go in).</summary>
    [Range(1L * 1024 * 1024, 1L << 40)]
    public long SpoolLimitBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>The content-addressed artifact store (a directory).</summary>
    [Required(AllowEmptyStrings = false)]
    public string ArtifactStore { get; set; } = Path.Combine(Path.GetTempPath(), "buildfarm", "artifacts");

    /// <summary>Accept file:// and local-path repositories (only a local farm should).</summary>
    public bool AllowFileRepositories { get; set; }

    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A dispatch is acknowledged by the attempt's first report: <see cref="Contracts.BuildRunStarted"/> when it gets its
    /// slot within this time (one message and one Scheduler transaction fewer per build), else
    /// <see cref="Contracts.BuildRunAccepted"/> at this time. Keep it well below the Scheduler's DispatchAckTimeout (30 s);
    /// 0 acknowledges every dispatch at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan AcknowledgeWithin { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Between SIGTERM and SIGKILL when a build is stopped.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long running builds may go on at shutdown before they are handed back.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Advertised in the heartbeat: a server in maintenance gets no new builds.</summary>
    public bool Maintenance { get; set; }

    /// <summary>Default wait for a farm-wide slot (SettingsChanged replaces it at run time).</summary>
    [Range(1, 86_400)]
    public int SlotWaitTimeoutSeconds { get; set; } = 300;

    /// <summary>Default longest build (a dispatch's own value wins; SettingsChanged replaces it at run time).</summary>
    [Range(1, 10_080)]
    public int MaxBuildMinutes { get; set; } = 120;

    /// <summary>
    /// A build that fails while less than this many bytes are free where it writes (its workspace, and mock's
    /// build roots under /var/lib/mock) failed for want of disk, not through its own fault: it ends as an
    /// infrastructure failure and is retried elsewhere.
    /// </summary>
    [Range(0, long.MaxValue)]
    public long MinFreeDiskBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Default days a cached repository mirror may go unused before it is removed (SettingsChanged replaces it).</summary>
    [Range(1, 3650)]
    public int CleanupReposAfterDays { get; set; } = 7;

    /// <summary>Default minutes between refreshes of the cached mirrors (SettingsChanged replaces it).</summary>
    [Range(1, 10_080)]
    public int RepositorySyncIntervalMinutes { get; set; } = 30;

    /// <summary>How build code is confined (user, namespaces, limits).</summary>
    public Sandboxing.SandboxOptions Sandbox { get; set; } = new();

    /// <summary>Extra environment variables for every build command (proxies, mock's settings, test knobs).</summary>
    public Dictionary<string, string> BuildEnvironment { get; set; } = [];

    /// <summary><see cref="RepositoryCacheRoot"/>, or <c>repositories</c> beside <see cref="WorkspaceRoot"/>, as a full path.</summary>
    public string RepositoryCacheDirectory => Path.GetFullPath(string.IsNullOrWhiteSpace(RepositoryCacheRoot)
        ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(WorkspaceRoot).TrimEnd(Path.DirectorySeparatorChar)) ?? "/", "repositories")
        : RepositoryCacheRoot);

    /// <summary><see cref="StateRoot"/>, or <c>state/{ServerId}</c> beside <see cref="WorkspaceRoot"/>, as a full path.</summary>
    public string StateDirectory => Path.GetFullPath(string.IsNullOrWhiteSpace(StateRoot)
        ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(WorkspaceRoot).TrimEnd(Path.DirectorySeparatorChar)) ?? "/", "state", ServerId)
        : StateRoot);

    /// <summary>The queue this server receives its commands on.</summary>
    public string QueueName => QueueNameFor(ServerId);

    /// <summary><c>build-server-{serverId}</c>, lower-case: where the Scheduler sends DispatchBuild and StopBuildRun.</summary>
    public static string QueueNameFor(string serverId) => $"build-server-{serverId.ToLowerInvariant()}";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var sandboxResults = new List<ValidationResult>();
        if (!Validator.TryValidateObject(Sandbox, new ValidationContext(Sandbox), sandboxResults, validateAllProperties: true))
        {
            foreach (var result in sandboxResults)
            {
                yield return new ValidationResult($"Worker:Sandbox: {result.ErrorMessage}", result.MemberNames.Select(m => $"Sandbox.{m}"));
            }
        }
        foreach (var architecture in Architectures)
        {
            if (!Domain.Architectures.Known.Contains(architecture))
            {
                yield return new ValidationResult($"Worker:Architectures: unknown architecture '{architecture}'.", [nameof(Architectures)]);
            }
        }
        foreach (var config in MockConfigs)
        {
            if (Domain.Toolchains.Error(Domain.Toolchains.MockPrefix + config) is { } error)
            {
                yield return new ValidationResult($"Worker:MockConfigs: {error}.", [nameof(MockConfigs)]);
            }
        }
        if (Path.GetFullPath(WorkspaceRoot) == Path.GetFullPath(ArtifactStore))
        {
            yield return new ValidationResult("Worker:WorkspaceRoot and Worker:ArtifactStore must differ.", [nameof(WorkspaceRoot)]);
        }
        var state = StateDirectory.TrimEnd(Path.DirectorySeparatorChar);
        if (state == Path.GetFullPath(WorkspaceRoot).TrimEnd(Path.DirectorySeparatorChar)
            || state == Path.GetFullPath(ArtifactStore).TrimEnd(Path.DirectorySeparatorChar))
        {
            yield return new ValidationResult("Worker:StateRoot must differ from Worker:WorkspaceRoot and Worker:ArtifactStore.", [nameof(StateRoot)]);
        }
        var cache = RepositoryCacheDirectory.TrimEnd(Path.DirectorySeparatorChar);
        if (cache == Path.GetFullPath(WorkspaceRoot).TrimEnd(Path.DirectorySeparatorChar)
            || cache == Path.GetFullPath(ArtifactStore).TrimEnd(Path.DirectorySeparatorChar))
        {
            yield return new ValidationResult(
                "Worker:RepositoryCacheRoot must differ from Worker:WorkspaceRoot and Worker:ArtifactStore.", [nameof(RepositoryCacheRoot)]);
        }
    }

    private static string DefaultServerId()
    {
        var name = new string(Environment.MachineName.ToLowerInvariant()
            .Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray()).TrimStart('.', '_', '-');
        return name.Length == 0 ? "worker" : name[..Math.Min(name.Length, 63)];
    }
}
