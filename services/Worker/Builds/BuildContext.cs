using BuildFarm.Contracts;
using BuildFarm.Worker.Sandboxing;

namespace BuildFarm.Worker.Builds;

/// <summary>One attempt's workspace, log and stop signal, shared by its steps.</summary>
internal sealed class BuildContext(
    DispatchBuild request, string workspace, LogPump log, WorkerOptions options, SandboxSession sandbox, CancellationToken stop)
{
    public DispatchBuild Request => request;

    /// <summary>WorkspaceRoot/{buildId}-{attempt}: removed after the attempt.</summary>
    public string Workspace => workspace;

    /// <summary>The git checkout.</summary>
    public string CheckoutDirectory { get; } = Path.Combine(workspace, "src");

    /// <summary>Where the toolchain puts packages and logs.</summary>
    public string ResultDirectory { get; } = Path.Combine(workspace, "result");

    public LogPump Log => log;

    /// <summary>The attempt's sandbox: every build command runs through it.</summary>
    public SandboxSession Sandbox => sandbox;

    /// <summary>The last output of the build's commands on stderr, for naming a limit a build hit.</summary>
    public RecentOutput RecentStderr { get; } = new();

    public WorkerOptions Options => options;

    /// <summary>Fires when the attempt must stop (cancel, timeout, lost slot, shutdown).</summary>
    public CancellationToken Stop => stop;

    /// <summary>The spec file to build (full path), once the checkout found it.</summary>
    public string SpecFile { get; set; } = "";

    /// <summary>
    /// Runs a build command confined by the attempt's sandbox, in its own process group, with an environment made
    /// of the allowlist, the server's BuildEnvironment and <paramref name="environment"/> (HOME is the workspace);
    /// its stdout and stderr are streamed into the log.
    /// </summary>
    public Task<ProcessExit> RunAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        string workingDirectory,
        Confinement confinement,
        IReadOnlyDictionary<string, string?>? environment = null,
        CancellationToken? stopOverride = null)
    {
        var merged = Sandboxing.BuildSandbox.BaseEnvironment(options, home: workspace);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            merged[name] = value;
        }
        sandbox.HandOverWorkspace();
        var command = sandbox.Wrap(new CommandLine(fileName, arguments, workingDirectory, merged), confinement);
        return ChildProcess.RunAsync(
            command,
            stdout => log.PumpAsync(stdout, "stdout"),
            stderr => log.PumpAsync(stderr, "stderr", RecentStderr),
            options.StopGracePeriod,
            stopOverride ?? stop);
    }
}
