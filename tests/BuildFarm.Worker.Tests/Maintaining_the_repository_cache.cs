using BuildFarm.ServiceDefaults;
using BuildFarm.Worker.Sources;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace BuildFarm.Worker.Tests;

public sealed class Maintaining_the_repository_cache : IAsyncLifetime
{
    private readonly GitRepository _old = new();
    private readonly GitRepository _recent = new("other.spec", "2.0");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 2, 12, 0, 0, TimeSpan.Zero));
    private TestWorker _worker = null!;

    public Task InitializeAsync()
    {
        _worker = new TestWorker(time: _time);
        return Task.CompletedTask;
    }

    private RepositoryCache Cache => _worker.Get<RepositoryCache>();

    [Fact]
    public async Task Removes_a_mirror_unused_past_the_limit_and_keeps_a_recent_one()
    {
        await BuildAsync(_old);
        _time.Advance(TimeSpan.FromDays(5));
        await BuildAsync(_recent);
        _time.Advance(TimeSpan.FromDays(3)); // the old one unused for 8 days, the recent one for 3; the limit is 7

        var removed = await Cache.CleanUpAsync(CancellationToken.None);

        Assert.Equal(1, removed);
        Assert.False(Directory.Exists(Cache.MirrorPathOf(_old.Url)));
        Assert.False(File.Exists(Cache.MetadataPath(RepositoryCache.KeyOf(_old.Url))));
        Assert.True(Directory.Exists(Cache.MirrorPathOf(_recent.Url)));
        Assert.Equal(RepositoryCache.KeyOf(_recent.Url), Assert.Single(Cache.List()).Key);
    }

    [Fact]
    public async Task Applies_a_shorter_limit_from_the_farm_settings_without_a_restart()
    {
        await BuildAsync(_recent);
        _time.Advance(TimeSpan.FromDays(3));
        Assert.Equal(0, await Cache.CleanUpAsync(CancellationToken.None));

        Assert.True(_worker.Get<FarmSettingsCache>().Apply(new FarmSettings { CleanupReposAfterDays = 2 }, revision: 1));
        var removed = await Cache.CleanUpAsync(CancellationToken.None);

        Assert.Equal(1, removed);
        Assert.False(Directory.Exists(Cache.MirrorPathOf(_recent.Url)));
    }

    [Fact]
    public async Task Refreshes_recently_used_mirrors_with_new_commits()
    {
        var usedAt = _time.GetUtcNow();
        await BuildAsync(_recent);
        var pushed = _recent.Commit("other.spec", GitRepository.Spec("2.1"), "version 2.1");
        _time.Advance(TimeSpan.FromMinutes(31));

        var refreshed = await Cache.SyncAsync(CancellationToken.None);

        Assert.Equal(1, refreshed);
        Assert.Equal(pushed, Git.Resolve(Cache.MirrorPathOf(_recent.Url), "refs/heads/main"));
        var entry = Assert.Single(Cache.List());
        Assert.Equal(_time.GetUtcNow(), entry.LastSyncedAt);
        Assert.Equal(usedAt, entry.LastUsedAt); // a refresh is not a use: it does not keep the mirror alive
    }

    [Fact]
    public async Task Does_not_refresh_a_mirror_due_for_removal()
    {
        await BuildAsync(_old);
        var pushed = _old.Commit("hello.spec", GitRepository.Spec("1.1"), "version 1.1");
        _time.Advance(TimeSpan.FromDays(8));

        var refreshed = await Cache.SyncAsync(CancellationToken.None);

        Assert.Equal(0, refreshed);
        Assert.Null(Git.Resolve(Cache.MirrorPathOf(_old.Url), pushed));
    }

    [Fact]
    public async Task Removes_what_an_interrupted_clone_left_and_nothing_it_does_not_own()
    {
        await BuildAsync(_recent);
        var leftover = $"{Cache.MirrorPathOf(_old.Url)}.tmp-{Guid.NewGuid():N}";
        Directory.CreateDirectory(leftover);
        await File.WriteAllTextAsync(Path.Combine(leftover, "HEAD"), "ref: refs/heads/main\n");
        var foreign = Path.Combine(Cache.Root, "notes.txt");
        await File.WriteAllTextAsync(foreign, "not the cache's");

        await Cache.CleanUpAsync(CancellationToken.None);

        Assert.False(Directory.Exists(leftover));
        Assert.True(File.Exists(foreign));
        Assert.True(Directory.Exists(Cache.MirrorPathOf(_recent.Url)));
    }

    [Fact]
    public async Task Refreshes_on_its_own_at_the_interval_the_farm_settings_give()
    {
        await BuildAsync(_recent);
        var pushed = _recent.Commit("other.spec", GitRepository.Spec("2.1"), "version 2.1");
        var mirror = Cache.MirrorPathOf(_recent.Url);
        Assert.True(_worker.Get<FarmSettingsCache>().Apply(new FarmSettings { RepositorySyncIntervalMinutes = 5 }, revision: 1));
        var service = Maintenance();
        await service.StartAsync(CancellationToken.None);
        try
        {
            // The worker's own default is 30 minutes: within 20 minutes only the farm's 5 can have refreshed it.
            for (var minute = 0; minute < 20 && Git.Resolve(mirror, "refs/heads/main") != pushed; minute++)
            {
                _time.Advance(TimeSpan.FromMinutes(1));
                await Task.Delay(TimeSpan.FromMilliseconds(200));
            }
            for (var i = 0; i < 50 && Git.Resolve(mirror, "refs/heads/main") != pushed; i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }

            Assert.Equal(pushed, Git.Resolve(mirror, "refs/heads/main"));
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Removes_stale_mirrors_as_soon_as_it_starts()
    {
        await BuildAsync(_old);
        _time.Advance(TimeSpan.FromDays(8));
        var service = Maintenance();

        await service.StartAsync(CancellationToken.None);
        try
        {
            for (var i = 0; i < 100 && Directory.Exists(Cache.MirrorPathOf(_old.Url)); i++)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }

            Assert.False(Directory.Exists(Cache.MirrorPathOf(_old.Url)));
        }
        finally
        {
            await service.StopAsync(CancellationToken.None);
        }
    }

    private IHostedService Maintenance() =>
        _worker.Get<IEnumerable<IHostedService>>().OfType<RepositoryCacheMaintenance>().Single();

    private async Task BuildAsync(GitRepository repository)
    {
        var finished = await _worker.BuildAsync(TestWorker.Request(repository.Url, repository.Head));
        Assert.Equal(BuildRunOutcome.Succeeded, finished.Outcome);
        Assert.True(Directory.Exists(Cache.MirrorPathOf(repository.Url)));
    }

    public async Task DisposeAsync()
    {
        await _worker.DisposeAsync();
        _old.Dispose();
        _recent.Dispose();
    }
}
