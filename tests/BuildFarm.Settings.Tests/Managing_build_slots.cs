using BuildFarm.Semaphore;
using BuildFarm.ServiceDefaults.Auth;
using BuildFarm.Settings.Apis;
using BuildFarm.Settings.Storage;

namespace BuildFarm.Settings.Tests;

public sealed class Managing_build_slots(SettingsFixture app) : IClassFixture<SettingsFixture>
{
    [Fact]
    public async Task Shows_who_holds_and_who_waits()
    {
        await PrepareAsync(limit: 1);
        var buildId = Guid.NewGuid();
        await using var lease = await Acquire($"{buildId}:2", "worker-a");
        var waiting = app.Semaphore.AcquireAsync(new SlotRequest($"{Guid.NewGuid()}:1", "worker-b", 3, Eventually.Patience), CancellationToken.None);
        await Eventually.HoldsAsync(async () => (await app.SemaphoreAdmin.GetWaitersAsync()).Count == 1, "the second build waits");
        using var viewer = app.Client(FarmRoles.Viewer);

        var status = await viewer.GetFromJsonAsync<BuildStatusResponse>("/api/settings/build_status");

        Assert.Equal((1, 1), (status!.ActiveCount, status.MaxConcurrent));
        var holder = Assert.Single(status.Holders);
        Assert.Equal((buildId.ToString(), $"{buildId}:2", 2, "worker-a", lease.FencingToken),
            (holder.BuildId, holder.Holder, holder.Attempt, holder.Worker, holder.FencingToken));
        Assert.True(holder.LeaseExpiresAt > holder.Since);
        var waiter = Assert.Single(status.Waiters);
        Assert.Equal((1, 3, "worker-b"), (waiter.Position, waiter.Priority, waiter.Worker));

        await app.SemaphoreAdmin.ClearAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => waiting);
    }

    [Fact]
    public async Task Releasing_a_build_frees_every_slot_it_holds_and_its_lease_is_lost()
    {
        await PrepareAsync(limit: 3);
        var buildId = Guid.NewGuid();
        await using var first = await Acquire($"{buildId}:1", "worker-a");
        await using var retry = await Acquire($"{buildId}:2", "worker-b");
        await using var other = await Acquire($"{Guid.NewGuid()}:1", "worker-c");
        using var admin = app.Client(FarmRoles.Admin, "erin");

        using var response = await admin.PostAsync($"/api/settings/build_status/release/{buildId}", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var released = await response.Content.ReadFromJsonAsync<ReleaseSlotResponse>();
        Assert.Equal([$"{buildId}:1", $"{buildId}:2"], released!.Released.Order());
        await Eventually.FiresAsync(first.Lost);
        await Eventually.FiresAsync(retry.Lost);
        Assert.False(other.Lost.IsCancellationRequested);
        Assert.Equal(other.HolderId, Assert.Single(await app.SemaphoreAdmin.GetHoldersAsync()).HolderId);
        var audit = await NewestHistoryAsync();
        Assert.Equal(("release", "erin"), (audit.Action, audit.ChangedBy));
        Assert.Contains(buildId.ToString(), audit.Details!.Value.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Releasing_a_build_that_holds_no_slot_is_not_found()
    {
        await PrepareAsync(limit: 2);
        using var admin = app.Client(FarmRoles.Admin);

        using var response = await admin.PostAsync($"/api/settings/build_status/release/{Guid.NewGuid()}", null);

        await Json.ProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Clearing_frees_every_slot()
    {
        await PrepareAsync(limit: 2);
        await using var first = await Acquire($"{Guid.NewGuid()}:1", "worker-a");
        await using var second = await Acquire($"{Guid.NewGuid()}:1", "worker-b");
        using var admin = app.Client(FarmRoles.Admin, "frank");

        using var response = await admin.PostAsync("/api/settings/build_status/clear", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, (await response.Content.ReadFromJsonAsync<ClearSlotsResponse>())!.Released.Count);
        await Eventually.FiresAsync(first.Lost);
        await Eventually.FiresAsync(second.Lost);
        using var viewer = app.Client(FarmRoles.Viewer);
        var status = await viewer.GetFromJsonAsync<BuildStatusResponse>("/api/settings/build_status");
        Assert.Equal(0, status!.ActiveCount);
        Assert.Empty(status.Holders);
        Assert.Empty(status.Waiters);
        var audit = await NewestHistoryAsync();
        Assert.Equal(("clear", "frank"), (audit.Action, audit.ChangedBy));
    }

    /// <summary>An empty semaphore with the given limit, set through the API as an admin would.</summary>
    private async Task PrepareAsync(int limit)
    {
        await app.SemaphoreAdmin.ClearAsync();
        using var admin = app.Client(FarmRoles.Admin);
        using var response = await admin.PatchAsync("/api/settings", Json.Body($$"""{"maxConcurrentBuilds": {{limit}}}""", Json.MergePatch));
        response.EnsureSuccessStatusCode();
        Assert.Equal(limit, await app.SemaphoreAdmin.GetLimitAsync());
    }

    private Task<SlotLease> Acquire(string holderId, string worker) =>
        app.Semaphore.AcquireAsync(new SlotRequest(holderId, worker, 1, Eventually.Patience), CancellationToken.None);

    private async Task<SettingsHistoryEntry> NewestHistoryAsync()
    {
        using var viewer = app.Client(FarmRoles.Viewer);
        var page = await viewer.GetFromJsonAsync<SettingsHistoryPage>("/api/settings/history?limit=1");
        return Assert.Single(page!.Items);
    }
}
