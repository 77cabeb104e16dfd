namespace BuildFarm.Semaphore.Tests;

public sealed class Fencing_tokens
{
    [Fact]
    public async Task Strictly_increase_from_grant_to_grant()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 2);
        RedisFarmSemaphore[] processes = [scope.First, await scope.AddInstanceAsync()];
        var tokens = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            await using var lease = await processes[i % 2].AcquireAsync(SemaphoreScope.Request($"build-{i}"), CancellationToken.None);
            tokens.Add(lease.FencingToken);
            var listed = (await scope.Admin.GetHoldersAsync()).Single(h => h.HolderId == lease.HolderId);
            Assert.Equal(lease.FencingToken, listed.FencingToken);
            Assert.True(listed.LeaseExpiresAt > listed.Since);
            Assert.Equal($"worker-build-{i}", listed.WorkerId);
        }

        Assert.True(tokens.Zip(tokens.Skip(1)).All(pair => pair.Second > pair.First), string.Join(",", tokens));
    }

    [Fact]
    public async Task Of_the_same_holder_id_taken_again_are_new()
    {
        await using var scope = await SemaphoreScope.CreateAsync(limit: 1);
        var first = await scope.First.AcquireAsync(SemaphoreScope.Request("build-1:1"), CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            scope.First.AcquireAsync(SemaphoreScope.Request("build-1:1"), CancellationToken.None));
        await first.DisposeAsync();

        await using var again = await scope.First.AcquireAsync(SemaphoreScope.Request("build-1:1"), CancellationToken.None);

        Assert.True(again.FencingToken > first.FencingToken);
        await first.DisposeAsync();
        Assert.Equal(again.FencingToken, Assert.Single(await scope.Admin.GetHoldersAsync()).FencingToken);
    }
}
