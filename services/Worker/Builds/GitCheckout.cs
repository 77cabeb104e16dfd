using BuildFarm.Domain.Sources;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Builds;

/// <summary>
/// Fetches a build's source: a shallow clone of the branch, then the exact commit (fetched by id, or the
/// branch's history when the server will not serve a commit by id), into the attempt's workspace. Every
/// user value is checked by <see cref="GitSource"/> first and passed as argv after <c>--</c> or as the value
/// of a <c>--option=value</c>, never through a shell; git may not prompt and may use only the allowed
/// transports (GIT_ALLOW_PROTOCOL).
/// </summary>
internal sealed class GitCheckout(WorkerCapabilities capabilities, ILogger<GitCheckout> logger)
{
    private static readonly string[] MissingRepository =
    [
        "repository not found", "does not exist", "not found", "could not read from remote repository",
        "does not appear to be a git repository", "authentication failed", "could not read username",
        "terminal prompts disabled", "permission denied", "access denied", "not a git repository",
    ];

    private static readonly string[] Transient =
    [
        "could not resolve host", "connection refused", "connection timed out", "operation timed out",
        "network is unreachable", "temporary failure", "rpc failed", "early eof", "the requested url returned error: 5",
        "gnutls", "ssl", "no space left on device", "connection reset", "broken pipe",
    ];

    /// <summary>Null when the request's source may be fetched, else a sentence saying why not.</summary>
    public static string? SourceError(string repository, string branch, string commit, string? specPath, bool allowFile) =>
        GitSource.RepositoryUrlError(repository, allowFile)
        ?? GitSource.BranchError(branch)
        ?? GitSource.CommitError(commit)
        ?? GitSource.SpecPathError(specPath);

    /// <summary>Clones and checks out; throws <see cref="BuildStepException"/> with the outcome when it cannot.</summary>
    public async Task CheckoutAsync(BuildContext context)
    {
        var request = context.Request;
        if (SourceError(request.SourceRepository, request.Branch, request.CommitHash, request.SpecPath,
                context.Options.AllowFileRepositories) is { } error)
        {
            throw new BuildStepException(RunResult.BuildFailure($"invalid source: {error}"));
        }
        var git = capabilities.Git
            ?? throw new BuildStepException(RunResult.InfrastructureFailure("git is not installed on this build server"));

        var environment = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["GIT_TERMINAL_PROMPT"] = "0",
            ["GIT_ALLOW_PROTOCOL"] = GitSource.AllowedProtocolsFor(context.Options.AllowFileRepositories),
            ["GCM_INTERACTIVE"] = "never",
            ["GIT_ASKPASS"] = "/bin/false",
            ["SSH_ASKPASS"] = "/bin/false",
            ["LC_ALL"] = "C",
        };
        if (Environment.GetEnvironmentVariable("GIT_SSH_COMMAND") is null)
        {
            environment["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";
        }

        var url = request.SourceRepository;
        var directory = context.CheckoutDirectory;
        logger.LogInformation("Cloning {Repository} branch {Branch} for build {BuildId} attempt {Attempt}",
            url, request.Branch, request.BuildId, request.Attempt);

        var stderr = new RecentOutput();
        var clone = await context.RunAsync(git,
            ["clone", "--depth", "1", "--no-tags", "--single-branch", $"--branch={request.Branch}", "--", url, directory],
            context.Workspace, environment, stderr).ConfigureAwait(false);
        ThrowIfStopped(context, clone);
        if (clone.ExitCode != 0)
        {
            throw new BuildStepException(ClassifyCloneFailure(url, request.Branch, stderr.ToString(), clone.ExitCode));
        }

        var head = await RevParseHeadAsync(context, git, environment).ConfigureAwait(false);
        if (head is not null && GitSource.SameCommit(head, request.CommitHash))
        {
            return;
        }

        var fetched = false;
        if (request.CommitHash.Length is 40 or 64)
        {
            var byId = await context.RunAsync(git, ["fetch", "--depth", "1", "--no-tags", "origin", "--", request.CommitHash],
                directory, environment).ConfigureAwait(false);
            ThrowIfStopped(context, byId);
            fetched = byId.ExitCode == 0;
        }
        if (!fetched)
        {
            var unshallow = await context.RunAsync(git, ["fetch", "--unshallow", "--no-tags", "origin"],
                directory, environment, new RecentOutput()).ConfigureAwait(false);
            ThrowIfStopped(context, unshallow);
        }

        var checkout = await context.RunAsync(git,
            ["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", request.CommitHash, "--"],
            directory, environment).ConfigureAwait(false);
        ThrowIfStopped(context, checkout);
        head = await RevParseHeadAsync(context, git, environment).ConfigureAwait(false);
        if (checkout.ExitCode != 0 || head is null || !GitSource.SameCommit(head, request.CommitHash))
        {
            throw new BuildStepException(RunResult.BuildFailure(
                $"commit {request.CommitHash} was not found on branch {request.Branch} of {url}"));
        }
    }

    /// <summary>Why a clone failed, as the outcome the Scheduler acts on.</summary>
    public static RunResult ClassifyCloneFailure(string url, string branch, string stderr, int exitCode)
    {
        var text = stderr.ToLowerInvariant();
        var lastLine = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        if (text.Contains("remote branch", StringComparison.Ordinal) && text.Contains("not found", StringComparison.Ordinal))
        {
            return RunResult.BuildFailure($"branch {branch} does not exist in repository {url}", exitCode);
        }
        if (MissingRepository.Any(p => text.Contains(p, StringComparison.Ordinal)))
        {
            return RunResult.BuildFailure($"repository {url} does not exist or cannot be read: {lastLine}", exitCode);
        }
        if (Transient.Any(p => text.Contains(p, StringComparison.Ordinal)))
        {
            return RunResult.InfrastructureFailure($"could not reach repository {url}: {lastLine}", exitCode);
        }
        return RunResult.BuildFailure($"repository {url} does not exist or cannot be read: {lastLine}", exitCode);
    }

    private static async Task<string?> RevParseHeadAsync(BuildContext context, string git, IReadOnlyDictionary<string, string?> environment)
    {
        var output = new RecentOutput(256);
        var result = await ChildProcess.RunAsync(
            new CommandLine(git, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], context.CheckoutDirectory, environment),
            async stdout =>
            {
                var buffer = new byte[256];
                int read;
                while ((read = await stdout.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                {
                    output.Append(buffer.AsSpan(0, read));
                }
            },
            stderr => context.Log.PumpAsync(stderr, "stderr"),
            context.Options.StopGracePeriod,
            context.Stop).ConfigureAwait(false);
        ThrowIfStopped(context, result);
        return result.ExitCode == 0 ? output.ToString().Trim() : null;
    }

    private static void ThrowIfStopped(BuildContext context, ProcessExit exit)
    {
        if (exit.Stopped || context.Stop.IsCancellationRequested)
        {
            throw new OperationCanceledException(context.Stop);
        }
    }
}
