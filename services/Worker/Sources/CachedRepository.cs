namespace BuildFarm.Worker.Sources;

/// <summary>
/// What the cache remembers of one mirror, kept as <c>{key}.json</c> beside <c>{key}.git</c>: the URL it was last
/// used for, when a build last used it and when it last fetched from the repository.
/// </summary>
internal sealed record CachedRepository(string Key, string Url, DateTimeOffset LastUsedAt, DateTimeOffset? LastSyncedAt);
