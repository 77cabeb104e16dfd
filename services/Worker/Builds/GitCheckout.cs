using BuildFarm.Domain.Sources;
using BuildFarm.Worker.Sources;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Builds;

/// <summary>
/// Fetches a build's source through the server's <see cref="RepositoryCache"/>: under the repository's lock the
/// mirror is cloned or brought up to date only when it lacks the branch or the commit, then the exact commit is
/// fetched shallowly (<c>--depth 1</c>, git's own transport over the local path) from the mirror into the
/// attempt's workspace and checked out detached. The workspace so owns every object it has: it shares no
/// files with the mirror (no alternates as <c>--shared</c> would make, no hard links as a local clone would), so
/// a later fetch, prune, re-clone or removal of the mirror cannot break a running build, and nothing a build
/// does to its workspace can reach the mirror; it costs one commit's tree, as the shallow network clone did.
/// Every user value is checked by <see cref="GitSource"/> first and passed as argv after <c>--</c> or inside a
/// ref name, never through a shell; git may not prompt and may use only the allowed transports
/// (GIT_ALLOW_PROTOCOL; only <c>file</c> for the copy out of the mirror).
/// </summary>
internal sealed class GitCheckout(WorkerCapabilities capabilities, RepositoryCache cache, ILogger<GitCheckout> logger)
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

    /// <summary>
    /// Fetches and checks out; returns the full commit checked out (the branch's tip for HEAD). Throws
    /// <see cref="BuildStepException"/> with the outcome when it cannot.
    /// </summary>
    public async Task<string> CheckoutAsync(BuildContext context)
    {
        var request = context.Request;
        if (SourceError(request.SourceRepository, request.Branch, request.CommitHash, request.SpecPath,
                context.Options.AllowFileRepositories) is { } error)
        {
            throw new BuildStepException(RunResult.BuildFailure($"invalid source: {error}"));
        }
        var git = capabilities.Git
            ?? throw new BuildStepException(RunResult.InfrastructureFailure("git is not installed on this build server"));
        var remote = new GitRunner(git, GitRunner.EnvironmentFor(context.Options), context.Log, context.Options.StopGracePeriod, context.Stop);
        var local = remote.WithProtocols("file");

        var url = request.SourceRepository;
        var directory = context.CheckoutDirectory;
        logger.LogInformation("Fetching {Repository} branch {Branch} commit {Commit} for build {BuildId} attempt {Attempt}",
            url, request.Branch, request.CommitHash, request.BuildId, request.Attempt);

        string commit;
        await using (var mirror = await cache.OpenAsync(url, context.Stop).ConfigureAwait(false))
        {
            commit = await mirror.PrepareAsync(remote, request.Branch, request.CommitHash).ConfigureAwait(false);
            var copy = await CopyCommitAsync(local, mirror.Path, commit, directory, context.Workspace).ConfigureAwait(false);
            if (!copy.Succeeded)
            {
                // The mirror had the commit's name but not all of its objects: start it again, once.
                logger.LogWarning("Copying {Commit} out of the cached mirror of {Repository} failed ({Error}); cloning it again",
                    commit, url, copy.LastErrorLine);
                await mirror.CloneAsync(remote, request.Branch).ConfigureAwait(false);
                commit = await mirror.PrepareAsync(remote, request.Branch, request.CommitHash).ConfigureAwait(false);
                copy = await CopyCommitAsync(local, mirror.Path, commit, directory, context.Workspace).ConfigureAwait(false);
                if (!copy.Succeeded)
                {
                    throw new BuildStepException(RunResult.InfrastructureFailure(
                        $"could not copy commit {commit} of {url} out of the repository cache: {copy.LastErrorLine}", copy.ExitCode));
                }
            }
        }

        // The full commit, detached: once checkout succeeds, HEAD is that commit.
        var checkout = await remote.RunAsync(
            ["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit, "--"], directory).ConfigureAwait(false);
        if (!checkout.Succeeded)
        {
            throw new BuildStepException(RunResult.InfrastructureFailure(
                $"could not check out commit {commit} of {url}: {checkout.LastErrorLine}", checkout.ExitCode));
        }
        return commit;
    }

    /// <summary>A new repository in <paramref name="directory"/> holding just <paramref name="commit"/> (depth 1), fetched from the mirror.</summary>
    private static async Task<GitResult> CopyCommitAsync(GitRunner git, string mirror, string commit, string directory, string workspace)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
        Directory.CreateDirectory(directory);
        var init = await git.RunAsync(
            commit.Length == 64 ? ["init", "--quiet", "--object-format=sha256"] : ["init", "--quiet"], directory).ConfigureAwait(false);
        if (!init.Succeeded)
        {
            throw new BuildStepException(RunResult.InfrastructureFailure(
                $"could not make a repository in the workspace {workspace}: {init.LastErrorLine}", init.ExitCode));
        }
        return await git.RunAsync(
            ["-c", "protocol.version=2", "fetch", "--quiet", "--depth", "1", "--no-tags", "--", mirror, commit], directory).ConfigureAwait(false);
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
}
