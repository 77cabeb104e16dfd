using BuildFarm.Testing;

namespace BuildFarm.Persistence.Tests.Infrastructure;

/// <summary>A database and a RabbitMQ virtual host of the test class's own, removed afterwards.</summary>
public abstract class ServersFixture : IAsyncLifetime
{
    protected string Postgres { get; private set; } = "";

    protected Uri RabbitMq { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Postgres = await TestServers.CreateDatabaseAsync("persistence");
        RabbitMq = await TestServers.CreateVirtualHostAsync("persistence");
    }

    public async Task DisposeAsync()
    {
        await TestServers.DeleteVirtualHostAsync(RabbitMq);
        await TestServers.DropDatabaseAsync(Postgres);
    }
}
