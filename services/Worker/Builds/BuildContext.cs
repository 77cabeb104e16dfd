using BuildFarm.Contracts;

namespace BuildFarm.Worker.Builds;

/// <summary>One attempt's workspace, log and stop signal, shared by its steps.</summary>
internal sealed class BuildContext(DispatchBuild request, string workspace, LogPump log, WorkerOptions options, CancellationToken stop)
{
    public DispatchBuild Request => request;

    /// <summary>WorkspaceRoot/{buildId}-{attempt}: removed after the attempt.</summary>
    public string Workspace => workspace;

    /// <summary>The git checkout.</summary>
    public string CheckoutDirectory { get; } = Path.Combine(workspace, "src");

    /// <summary>Where the toolchain puts packages and logs.</summary>
    public string ResultDirectory { get; } = Path.Combine(workspace, "result");

    public LogPump Log => log;

    public WorkerOptions Options => options;

    /// <summary>Fires when the attempt must stop (cancel, timeout, lost slot, shutdown).</summary>
    public CancellationToken Stop => stop;

    /// <summary>The spec file to build (full path), once the checkout found it.</summary>
    public string SpecFile { get; set; } = "";

    /// <summary>Runs a command in its own process group, its stdout and stderr streamed into the log.</summary>
    public Task<ProcessExit> RunAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        string workingDirectory,
        IReadOnlyDictionary<string, string?>? environment = null,
        RecentOutput? recentStderr = null)
    {
        var merged = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in options.BuildEnvironment)
        {
            merged[name] = value;
        }
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            merged[name] = value;
        }
        var command = new CommandLine(fileName, arguments, workingDirectory, merged);
        return ChildProcess.RunAsync(
            command,
            stdout => log.PumpAsync(stdout, "stdout"),
            stderr => log.PumpAsync(stderr, "stderr", recentStderr),
            options.StopGracePeriod,
            stop);
    }
}
