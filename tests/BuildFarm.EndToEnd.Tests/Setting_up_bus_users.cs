namespace BuildFarm.EndToEnd.Tests;

/// <summary>The test support's bus users: RabbitMQ users are global, and fixtures of several assemblies set them up at once.</summary>
public sealed class Setting_up_bus_users
{
    [Fact]
    public async Task A_new_user_set_up_by_many_fixtures_at_once_is_set_up_for_each()
    {
        var vhost = await TestServers.CreateVirtualHostAsync("users");
        try
        {
            // Servers nobody named before: their users do not exist yet, so every fixture tries to create them.
            for (var round = 0; round < 5; round++)
            {
                var server = $"users-{Guid.NewGuid():N}"[..16];
                var uris = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => TestServers.BusUserAsync(vhost, "worker", server))));

                Assert.Single(uris.Distinct());
                await using var bus = await RawBus.ConnectAsync(uris[0]);
            }
        }
        finally
        {
            await TestServers.DeleteVirtualHostAsync(vhost);
        }
    }
}
