using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BuildFarm.Testing;
using RabbitMQ.Client;

namespace BuildFarm.Scheduler.Tests;

/// <summary>Another service publishes BuildRequested straight onto the bus, as raw JSON, with mistakes in it.</summary>
public sealed class Guarding_the_bus_door
{
    [Fact]
    public async Task A_malformed_request_is_rejected_with_the_fields_named_and_nothing_faults()
    {
        await using var farm = await SchedulerFarm.StartAsync(1);
        var buildId = Guid.NewGuid();
        var envelope = $$"""
            {
              "messageId": "{{Guid.NewGuid()}}",
              "messageType": ["urn:message:BuildFarm.Contracts:BuildRequested"],
              "message": {
                "buildId": "{{buildId}}",
                "sourceRepository": 42,
                "branch": { "name": "main" },
                "commitHash": true,
                "priority": "soonish"
              }
            }
            """;

        var factory = new ConnectionFactory { Uri = farm.VirtualHost };
        await using (var connection = await factory.CreateConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true };
            await channel.BasicPublishAsync("BuildFarm.Contracts:BuildRequested", "", false, properties, Encoding.UTF8.GetBytes(envelope));
        }
        await farm.WaitUntilAsync(() => Task.FromResult(farm.Rejections.Any(r => r.BuildId == buildId)), "the request is rejected");

        var rejected = farm.Rejections.Single(r => r.BuildId == buildId);
        var fields = rejected.Errors.Select(e => e.Field).ToHashSet();
        Assert.Superset(new HashSet<string> { "sourceRepository", "branch", "commitHash", "targetArchitecture", "toolchain", "priority" }, fields);
        Assert.Equal(0, await farm.CountAsync("Queued"));
        Assert.Equal(0, await ErrorQueueDepthAsync(farm.VirtualHost, "build-state_error"));
    }

    private static async Task<long> ErrorQueueDepthAsync(Uri vhost, string queue)
    {
        var management = TestServers.RabbitMqManagement;
        using var http = new HttpClient { BaseAddress = new Uri(management.GetLeftPart(UriPartial.Authority) + "/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(string.IsNullOrEmpty(management.UserInfo) ? "guest:guest" : Uri.UnescapeDataString(management.UserInfo))));
        var name = Uri.UnescapeDataString(vhost.AbsolutePath.TrimStart('/'));
        var response = await http.GetAsync($"api/queues/{Uri.EscapeDataString(name)}/{queue}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return 0;
        }
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.TryGetProperty("messages", out var messages) ? messages.GetInt64() : 0;
    }
}
