using BuildFarm.Domain.Sources;
using BuildFarm.Worker.Builds;

namespace BuildFarm.Worker.Sources;

/// <summary>
/// Runs git as argv (never through a shell) in a process group of its own, with an environment in which git
/// cannot prompt and may use only the given transports (GIT_ALLOW_PROTOCOL). Output goes to a build's log
/// when there is one; the last few kilobytes of stderr (and stdout, when asked) are kept to explain a failure.
/// A stopped command throws <see cref="OperationCanceledException"/>.
/// </summary>
internal sealed class GitRunner(string git, IReadOnlyDictionary<string, string?> environment, LogPump? log, TimeSpan grace, CancellationToken stop)
{
    public CancellationToken Stop => stop;

    /// <summary>
    /// The environment for git on this server: the build environment (proxies and the like), then no prompts
    /// and only <paramref name="allowedProtocols"/> (default: the farm's transports, plus file when allowed).
    /// </summary>
    public static Dictionary<string, string?> EnvironmentFor(WorkerOptions options, string? allowedProtocols = null)
    {
        // git runs as the Worker's user outside the sandbox (it needs the network and the repository cache), but
        // with the allowlisted environment only: no connection string or password of the Worker's reaches it.
        var environment = Sandboxing.BuildSandbox.BaseEnvironment(options, home: null);
        environment["GIT_TERMINAL_PROMPT"] = "0";
        environment["GIT_ALLOW_PROTOCOL"] = allowedProtocols ?? GitSource.AllowedProtocolsFor(options.AllowFileRepositories);
        environment["GCM_INTERACTIVE"] = "never";
        environment["GIT_ASKPASS"] = "/bin/false";
        environment["SSH_ASKPASS"] = "/bin/false";
        environment["LC_ALL"] = "C";
        if (!options.BuildEnvironment.ContainsKey("GIT_SSH_COMMAND"))
        {
            environment["GIT_SSH_COMMAND"] = Environment.GetEnvironmentVariable("GIT_SSH_COMMAND") ?? "ssh -o BatchMode=yes";
        }
        return environment;
    }

    /// <summary>The same git, log and stop signal with other allowed transports.</summary>
    public GitRunner WithProtocols(string allowedProtocols)
    {
        var changed = new Dictionary<string, string?>(environment, StringComparer.Ordinal) { ["GIT_ALLOW_PROTOCOL"] = allowedProtocols };
        return new GitRunner(git, changed, log, grace, stop);
    }

    /// <summary>Runs git with <paramref name="arguments"/>; <paramref name="captureOutput"/> keeps stdout instead of logging it.</summary>
    public async Task<GitResult> RunAsync(IReadOnlyList<string> arguments, string workingDirectory, bool captureOutput = false)
    {
        stop.ThrowIfCancellationRequested();
        var stdout = new RecentOutput();
        var stderr = new RecentOutput();
        var exit = await ChildProcess.RunAsync(
            new CommandLine(git, arguments, workingDirectory, environment),
            s => captureOutput || log is null ? DrainAsync(s, stdout) : log.PumpAsync(s, "stdout"),
            s => log is null ? DrainAsync(s, stderr) : log.PumpAsync(s, "stderr", stderr),
            grace,
            stop).ConfigureAwait(false);
        if (exit.Stopped || stop.IsCancellationRequested)
        {
            throw new OperationCanceledException(stop);
        }
        return new GitResult(exit.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>The single line git printed (a rev-parse answer), or null when it failed.</summary>
    public async Task<string?> QueryAsync(IReadOnlyList<string> arguments, string workingDirectory)
    {
        var result = await RunAsync(arguments, workingDirectory, captureOutput: true).ConfigureAwait(false);
        var line = result.Output.Trim();
        return result.ExitCode == 0 && line.Length > 0 ? line : null;
    }

    private static async Task DrainAsync(Stream source, RecentOutput recent)
    {
        var buffer = new byte[4096];
        int read;
        while ((read = await source.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            recent.Append(buffer.AsSpan(0, read));
        }
    }
}
