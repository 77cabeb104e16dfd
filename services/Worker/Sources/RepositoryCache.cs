using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using BuildFarm.Domain.Sources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BuildFarm.Worker.Sources;

/// <summary>
/// The server's cache of repositories: one bare mirror clone per repository under
/// <see cref="WorkerOptions.RepositoryCacheDirectory"/>, named <c>{key}.git</c> where the key is a hash of the
/// normalised URL (user text never becomes a path), with <c>{key}.json</c> beside it recording its last use.
/// Builds take a repository's lock through <see cref="OpenAsync"/> so two builds of one repository never fetch
/// into the same mirror at once, while builds of different repositories go on in parallel; the maintenance
/// passes (<see cref="SyncAsync"/>, <see cref="CleanUpAsync"/>) take the same locks.
/// </summary>
internal sealed partial class RepositoryCache(
    IOptions<WorkerOptions> options,
    WorkerSettings settings,
    WorkerCapabilities capabilities,
    TimeProvider time,
    ILogger<RepositoryCache> logger)
{
    /// <summary>The longest one mirror's refresh may take in a sync pass.</summary>
    public static readonly TimeSpan SyncTimeout = TimeSpan.FromMinutes(30);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly WorkerOptions _options = options.Value;

    public string Root { get; } = options.Value.RepositoryCacheDirectory;

    internal TimeProvider Time => time;

    internal ILogger Logger => logger;

    /// <summary>
    /// The URL as the cache identifies a repository: scheme and host in lower case, git+ssh as ssh, file:// as
    /// the plain path, without trailing slashes or <c>.git</c>.
    /// </summary>
    public static string Normalize(string url)
    {
        var text = url.Trim();
        if (text.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            text = text["file://".Length..];
        }
        var scheme = SchemeUrl().Match(text);
        if (scheme.Success)
        {
            var name = scheme.Groups["scheme"].Value.ToLowerInvariant() switch
            {
                "git+ssh" or "ssh+git" => "ssh",
                var other => other,
            };
            var authority = scheme.Groups["authority"].Value;
            var at = authority.LastIndexOf('@');
            authority = at < 0 ? authority.ToLowerInvariant() : authority[..(at + 1)] + authority[(at + 1)..].ToLowerInvariant();
            text = $"{name}://{authority}{scheme.Groups["path"].Value}";
        }
        else if (ScpLike().Match(text) is { Success: true } scp)
        {
            text = $"{scp.Groups["user"].Value}{scp.Groups["host"].Value.ToLowerInvariant()}:{scp.Groups["path"].Value}";
        }
        text = text.TrimEnd('/');
        if (text.EndsWith(".git", StringComparison.Ordinal))
        {
            text = text[..^".git".Length].TrimEnd('/');
        }
        return text;
    }

    /// <summary>The name of a repository's mirror: 32 hexadecimal digits of the SHA-256 of its normalised URL.</summary>
    public static string KeyOf(string url) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Normalize(url))))[..32];

    /// <summary>Where the mirror of <paramref name="url"/> is (or would be).</summary>
    public string MirrorPathOf(string url) => MirrorPath(KeyOf(url));

    /// <summary>
    /// Takes the repository's lock (waiting for any build or pass that holds it) and marks it used now. The
    /// returned mirror may not exist yet; disposing it records the use and releases the lock.
    /// </summary>
    public Task<RepositoryMirror> OpenAsync(string url, CancellationToken cancellationToken) =>
        OpenAsync(KeyOf(url), url, use: true, cancellationToken);

    /// <summary>The mirrors on disk with what the cache recorded about them.</summary>
    public IReadOnlyList<CachedRepository> List() =>
        [.. KeysOnDisk().Select(Read).OfType<CachedRepository>().Where(r => Directory.Exists(MirrorPath(r.Key)))];

    /// <summary>
    /// Fetches into every mirror a build used within <see cref="WorkerSettings.CleanupReposAfter"/> (the ones
    /// about to be removed are not refreshed); returns how many were refreshed. Failures are logged.
    /// </summary>
    public async Task<int> SyncAsync(CancellationToken cancellationToken)
    {
        if (capabilities.Git is not { } git)
        {
            return 0;
        }
        var cutoff = time.GetUtcNow() - settings.CleanupReposAfter;
        var refreshed = 0;
        foreach (var entry in KeysOnDisk().Select(Read).OfType<CachedRepository>().Where(r => r.LastUsedAt >= cutoff))
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(SyncTimeout);
            var runner = new GitRunner(git, GitRunner.EnvironmentFor(_options), null, _options.StopGracePeriod, limit.Token);
            await using var mirror = await OpenAsync(entry.Key, entry.Url, use: false, cancellationToken).ConfigureAwait(false);
            try
            {
                if (await mirror.RefreshAsync(runner).ConfigureAwait(false))
                {
                    refreshed++;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                logger.LogWarning("Refreshing the mirror of {Repository} took longer than {Timeout}; stopped", entry.Url, SyncTimeout);
            }
        }
        return refreshed;
    }

    /// <summary>
    /// Removes the mirrors no build used for longer than <see cref="WorkerSettings.CleanupReposAfter"/> and what
    /// interrupted clones left behind; returns how many mirrors were removed.
    /// </summary>
    public async Task<int> CleanUpAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - settings.CleanupReposAfter;
        var removed = 0;
        foreach (var key in KeysOnDisk())
        {
            var gate = _locks.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // Under the lock nothing is being cloned or written: temporary entries are leftovers.
                foreach (var leftover in Directory.EnumerateFileSystemEntries(Root, key + ".*.tmp-*"))
                {
                    DeleteEntry(leftover);
                }
                var mirror = MirrorPath(key);
                var entry = Read(key);
                if (!Directory.Exists(mirror))
                {
                    DeleteEntry(MetadataPath(key));
                    continue;
                }
                var lastUsed = entry?.LastUsedAt ?? new DateTimeOffset(Directory.GetLastWriteTimeUtc(mirror), TimeSpan.Zero);
                if (lastUsed < cutoff)
                {
                    logger.LogInformation("Removing the cached mirror of {Repository}, unused since {LastUsed}", entry?.Url ?? key, lastUsed);
                    DeleteEntry(mirror);
                    DeleteEntry(MetadataPath(key));
                    removed++;
                }
            }
            finally
            {
                gate.Release();
            }
        }
        return removed;
    }

    internal string MirrorPath(string key) => Path.Combine(Root, key + ".git");

    internal string MetadataPath(string key) => Path.Combine(Root, key + ".json");

    internal CachedRepository? Read(string key)
    {
        try
        {
            var entry = JsonSerializer.Deserialize<CachedRepository>(File.ReadAllText(MetadataPath(key)), Json);
            return entry is null ? null : entry with { Key = key };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    internal void Write(CachedRepository entry)
    {
        var target = MetadataPath(entry.Key);
        var temporary = $"{target}.tmp-{Guid.NewGuid():N}";
        File.WriteAllText(temporary, JsonSerializer.Serialize(entry, Json));
        File.Move(temporary, target, overwrite: true);
    }

    internal void DeleteEntry(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(ex, "Could not remove {Path} from the repository cache", path);
        }
    }

    /// <summary>Whether the mirror's configured URL may still be fetched under this server's options.</summary>
    internal string? UrlError(string url) => GitSource.RepositoryUrlError(url, _options.AllowFileRepositories);

    private async Task<RepositoryMirror> OpenAsync(string key, string url, bool use, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Root);
        var gate = _locks.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return new RepositoryMirror(this, key, url, gate, Read(key), use);
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    /// <summary>The keys of everything the cache owns on disk; other names are left alone.</summary>
    private List<string> KeysOnDisk()
    {
        if (!Directory.Exists(Root))
        {
            return [];
        }
        return [.. Directory.EnumerateFileSystemEntries(Root)
            .Select(p => CacheEntryName().Match(Path.GetFileName(p)))
            .Where(m => m.Success)
            .Select(m => m.Groups["key"].Value)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)];
    }

    [GeneratedRegex(@"^(?<key>[0-9a-f]{32})\.(?:git|json)(?:\.tmp-[0-9a-f]{32})?$", RegexOptions.CultureInvariant)]
    private static partial Regex CacheEntryName();

    [GeneratedRegex(@"^(?<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?<authority>[^/]*)(?<path>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemeUrl();

    [GeneratedRegex(@"^(?<user>[A-Za-z0-9._-]+@)?(?<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?<path>.*)$", RegexOptions.CultureInvariant)]
    private static partial Regex ScpLike();
}
