using BuildFarm.Contracts;
using BuildFarm.Domain.Sources;
using BuildFarm.Worker.Builds;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Worker.Sources;

/// <summary>
/// One repository's mirror while its lock is held (from <see cref="RepositoryCache.OpenAsync"/>): made with
/// <c>git clone --mirror -- URL DIR</c> into a temporary directory that is renamed into place only when complete,
/// refreshed with <c>git fetch --prune origin</c>. Disposing records the use (or forgets a mirror that is gone)
/// and releases the lock.
/// </summary>
internal sealed class RepositoryMirror : IAsyncDisposable
{
    private readonly RepositoryCache _cache;
    private readonly SemaphoreSlim _gate;
    private readonly DateTimeOffset _lastUsedAt;
    private DateTimeOffset? _lastSyncedAt;
    private bool _disposed;

    internal RepositoryMirror(RepositoryCache cache, string key, string url, SemaphoreSlim gate, CachedRepository? recorded, bool use)
    {
        _cache = cache;
        _gate = gate;
        Key = key;
        Url = use || recorded is null ? url : recorded.Url;
        Path = cache.MirrorPath(key);
        _lastUsedAt = use || recorded is null ? cache.Time.GetUtcNow() : recorded.LastUsedAt;
        _lastSyncedAt = recorded?.LastSyncedAt;
    }

    public string Key { get; }

    public string Url { get; }

    /// <summary>The bare mirror's directory.</summary>
    public string Path { get; }

    private string GitDir => "--git-dir=" + Path;

    /// <summary>
    /// Makes sure the mirror holds <paramref name="branch"/> and <paramref name="commit"/>: clones it when it is
    /// missing or unusable, fetches only when one of them is missing, and starts again from a fresh clone (once)
    /// when the mirror turns out to be damaged. Returns the commit's full hash; throws
    /// <see cref="BuildStepException"/> when the repository, branch or commit is not there.
    /// </summary>
    public async Task<string> PrepareAsync(GitRunner git, string branch, string commit)
    {
        if (await HasCommitOnBranchAsync(git, branch, commit).ConfigureAwait(false) is { } known)
        {
            return known;
        }
        var recloned = false;
        if (!await IsUsableAsync(git).ConfigureAwait(false))
        {
            await CloneAsync(git, branch).ConfigureAwait(false);
            recloned = true;
        }
        var state = await InspectAsync(git, branch, commit).ConfigureAwait(false);
        if (state.Damaged && !recloned)
        {
            await CloneAsync(git, branch).ConfigureAwait(false);
            recloned = true;
            state = await InspectAsync(git, branch, commit).ConfigureAwait(false);
        }
        // The tip of the branch is whatever the repository has now: fetch first unless the mirror was just cloned.
        if ((!state.Complete || GitSource.IsBranchTip(commit)) && !recloned)
        {
            var fetch = await FetchAsync(git).ConfigureAwait(false);
            if (!fetch.Succeeded)
            {
                var failure = GitCheckout.ClassifyCloneFailure(Url, branch, fetch.Error, fetch.ExitCode);
                if (failure.Outcome == BuildRunOutcome.InfrastructureFailed)
                {
                    throw new BuildStepException(failure);
                }
                // Not the network: the mirror may be broken (or the repository gone). A fresh clone tells which.
                await CloneAsync(git, branch).ConfigureAwait(false);
                recloned = true;
            }
            state = await InspectAsync(git, branch, commit).ConfigureAwait(false);
            if (state.Damaged && !recloned)
            {
                await CloneAsync(git, branch).ConfigureAwait(false);
                state = await InspectAsync(git, branch, commit).ConfigureAwait(false);
            }
        }
        if (state.Damaged)
        {
            throw new BuildStepException(RunResult.InfrastructureFailure(
                $"the cached mirror of {Url} is damaged: branch {branch} names an object it does not have"));
        }
        if (state.Branch is null)
        {
            throw new BuildStepException(RunResult.BuildFailure($"branch {branch} does not exist in repository {Url}"));
        }
        if (state.Commit is not null && !state.OnBranch)
        {
            // The build is reported as the named branch: a commit of another branch is not built as this one.
            throw new BuildStepException(RunResult.BuildFailure($"commit {commit} is not on branch {branch} of {Url}"));
        }
        return state.Commit ?? throw new BuildStepException(RunResult.BuildFailure(
            $"commit {commit} was not found on branch {branch} of {Url}"));
    }

    /// <summary>
    /// Replaces the mirror with a fresh <c>git clone --mirror</c>; throws <see cref="BuildStepException"/> with the
    /// classified failure when the repository cannot be cloned (the old mirror is gone either way).
    /// </summary>
    public async Task CloneAsync(GitRunner git, string branch)
    {
        if (Directory.Exists(Path))
        {
            _cache.Logger.LogWarning("Cloning the cached mirror of {Repository} again", Url);
            _cache.DeleteEntry(Path);
        }
        var temporary = $"{Path}.tmp-{Guid.NewGuid():N}";
        try
        {
            var clone = await git.RunAsync(["clone", "--mirror", "--", Url, temporary], _cache.Root).ConfigureAwait(false);
            if (!clone.Succeeded)
            {
                throw new BuildStepException(GitCheckout.ClassifyCloneFailure(Url, branch, clone.Error, clone.ExitCode));
            }
            // gc after a fetch runs in the foreground, while the lock is held, never beside a later fetch.
            var config = await git.RunAsync(["--git-dir=" + temporary, "config", "gc.autoDetach", "false"], _cache.Root).ConfigureAwait(false);
            if (!config.Succeeded)
            {
                throw new BuildStepException(RunResult.InfrastructureFailure(
                    $"could not configure the cached mirror of {Url}: {config.LastErrorLine}", config.ExitCode));
            }
            Directory.Move(temporary, Path);
            _lastSyncedAt = _cache.Time.GetUtcNow();
            _cache.Logger.LogInformation("Cloned a mirror of {Repository} into {Mirror}", Url, Path);
        }
        finally
        {
            if (Directory.Exists(temporary))
            {
                _cache.DeleteEntry(temporary);
            }
        }
    }

    /// <summary>Fetches new objects and refs into the mirror (deleted branches go too).</summary>
    public async Task<GitResult> FetchAsync(GitRunner git)
    {
        var fetch = await git.RunAsync([GitDir, "fetch", "--prune", "origin"], _cache.Root).ConfigureAwait(false);
        if (fetch.Succeeded)
        {
            _lastSyncedAt = _cache.Time.GetUtcNow();
        }
        return fetch;
    }

    /// <summary>A sync pass's refresh: fetches when the mirror is there and its URL is still allowed; false when not.</summary>
    public async Task<bool> RefreshAsync(GitRunner git)
    {
        if (!await IsUsableAsync(git).ConfigureAwait(false))
        {
            return false;
        }
        var origin = await git.QueryAsync([GitDir, "config", "--get", "remote.origin.url"], _cache.Root).ConfigureAwait(false);
        var error = origin is null ? "it has no origin" : _cache.UrlError(origin);
        if (error is not null)
        {
            _cache.Logger.LogWarning("Not refreshing the cached mirror {Mirror}: {Error}", Path, error);
            return false;
        }
        var fetch = await FetchAsync(git).ConfigureAwait(false);
        if (!fetch.Succeeded)
        {
            _cache.Logger.LogWarning("Refreshing the cached mirror of {Repository} failed: {Error}", origin, fetch.LastErrorLine);
            return false;
        }
        return true;
    }

    public ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return ValueTask.CompletedTask;
        }
        _disposed = true;
        try
        {
            if (Directory.Exists(Path))
            {
                _cache.Write(new CachedRepository(Key, Url, _lastUsedAt, _lastSyncedAt));
            }
            else
            {
                _cache.DeleteEntry(_cache.MetadataPath(Key));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _cache.Logger.LogWarning(ex, "Could not record the use of the cached mirror of {Repository}", Url);
        }
        finally
        {
            _gate.Release();
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The usual case in one git process (two when the commit is not the branch's tip): a named commit the mirror
    /// already has on the branch needs no fetch. Null when that is not so, or not known (no mirror, no branch, no
    /// commit, a damaged mirror, the branch's tip asked for): <see cref="PrepareAsync"/> then goes the long way.
    /// </summary>
    private async Task<string?> HasCommitOnBranchAsync(GitRunner git, string branch, string commit)
    {
        if (GitSource.IsBranchTip(commit) || !Directory.Exists(Path))
        {
            return null;
        }
        // Both must resolve (to commits) or rev-parse fails; "--" makes them revisions, never paths.
        var resolved = await git.QueryAsync([GitDir, "rev-parse", $"refs/heads/{branch}^{{commit}}", $"{commit}^{{commit}}", "--"], _cache.Root)
            .ConfigureAwait(false);
        var lines = resolved?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines is not [var tip, var full, "--"] || !GitSource.SameCommit(full, commit))
        {
            return null;
        }
        return full == tip || (await git.RunAsync([GitDir, "merge-base", "--is-ancestor", full, tip], _cache.Root).ConfigureAwait(false)).Succeeded
            ? full
            : null;
    }

    private async Task<bool> IsUsableAsync(GitRunner git) =>
        Directory.Exists(Path)
        && await git.QueryAsync([GitDir, "rev-parse", "--is-bare-repository"], _cache.Root).ConfigureAwait(false) == "true";

    private async Task<MirrorState> InspectAsync(GitRunner git, string branch, string commit)
    {
        var reference = await git.QueryAsync([GitDir, "rev-parse", "--verify", "--quiet", $"refs/heads/{branch}"], _cache.Root)
            .ConfigureAwait(false);
        var tip = reference is null
            ? null
            : await git.QueryAsync([GitDir, "rev-parse", "--verify", "--quiet", $"refs/heads/{branch}^{{commit}}"], _cache.Root)
                .ConfigureAwait(false);
        // HEAD (or no commit) is the branch's tip, resolved here to the full commit that is then built and recorded.
        var full = GitSource.IsBranchTip(commit)
            ? tip
            : await git.QueryAsync([GitDir, "rev-parse", "--verify", "--quiet", $"{commit}^{{commit}}"], _cache.Root).ConfigureAwait(false);
        var onBranch = full is not null && tip is not null
            && (full == tip || (await git.RunAsync([GitDir, "merge-base", "--is-ancestor", full, tip], _cache.Root).ConfigureAwait(false)).Succeeded);
        return new MirrorState(tip, full, reference is not null && tip is null, onBranch);
    }

    /// <summary>
    /// The branch's tip and the wanted commit as the mirror has them, and whether the commit is reachable from the tip;
    /// damaged when the branch names a missing object. Incomplete (so fetched again) until the commit is on the branch:
    /// the mirror's copy of the branch may be older than the commit.
    /// </summary>
    private sealed record MirrorState(string? Branch, string? Commit, bool Damaged, bool OnBranch)
    {
        public bool Complete => Branch is not null && Commit is not null && OnBranch && !Damaged;
    }
}
