using System.Text;
using System.Text.Json;
using RabbitMQ.Client;

namespace BuildFarm.EndToEnd.Tests;

/// <summary>
/// A bus client as another service (or an attacker with some user's credentials) would write it: RabbitMQ.Client
/// and a MassTransit envelope, nothing of the farm's own code.
/// </summary>
public sealed class RawBus : IAsyncDisposable
{
    private readonly IConnection connection;
    private readonly IChannel channel;
    private readonly string user;

    private RawBus(IConnection connection, IChannel channel, string user)
    {
        this.connection = connection;
        this.channel = channel;
        this.user = user;
    }

    public static async Task<RawBus> ConnectAsync(Uri amqp)
    {
        var connection = await new ConnectionFactory { Uri = amqp }.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        return new RawBus(connection, channel, Uri.UnescapeDataString(amqp.UserInfo.Split(':')[0]));
    }

    /// <summary>Declares a message type's exchange as MassTransit does (as guest: the farm's users may not).</summary>
    public Task DeclareAsync(string messageType) =>
        channel.ExchangeDeclareAsync("BuildFarm.Contracts:" + messageType, ExchangeType.Fanout, durable: true, autoDelete: false);

    /// <summary>
    /// Publishes <paramref name="message"/> as a <paramref name="messageType"/> envelope to the exchange of
    /// <paramref name="exchangeType"/> (the same type unless given), with user_id <paramref name="userId"/> (this
    /// connection's user unless given), and waits for the broker's confirm.
    /// </summary>
    public async Task PublishAsync(string messageType, object message, string? exchangeType = null, string? userId = null, Uri? responseAddress = null)
    {
        var envelope = new
        {
            messageId = Guid.NewGuid(),
            messageType = new[] { "urn:message:BuildFarm.Contracts:" + messageType },
            responseAddress,
            message,
            sentTime = DateTimeOffset.UtcNow,
        };
        var properties = new BasicProperties
        {
            ContentType = "application/vnd.masstransit+json",
            MessageId = envelope.messageId.ToString(),
            UserId = userId ?? user,
            Persistent = true,
        };
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(envelope, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
        await channel.BasicPublishAsync("BuildFarm.Contracts:" + (exchangeType ?? messageType), "", false, properties, body);
    }

    /// <summary>A durable fanout exchange and a queue of this name, bound, as MassTransit would declare a receive endpoint.</summary>
    public async Task DeclareQueueAsync(string name)
    {
        await channel.ExchangeDeclareAsync(name, ExchangeType.Fanout, durable: true, autoDelete: false);
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(name, name, "");
    }

    /// <summary>The next message on <paramref name="queue"/> within <paramref name="timeout"/>: its message types and body.</summary>
    public async Task<(string[] Types, JsonElement Message)?> ReceiveAsync(string queue, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var delivery = await channel.BasicGetAsync(queue, autoAck: true);
            if (delivery is not null)
            {
                var envelope = JsonDocument.Parse(delivery.Body.ToArray()).RootElement;
                return ([.. envelope.GetProperty("messageType").EnumerateArray().Select(t => t.GetString()!)],
                    envelope.GetProperty("message").Clone());
            }
            await Task.Delay(50);
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await channel.CloseAsync();
        }
        catch (Exception)
        {
            // A channel the broker closed (a refused publish) is closed already.
        }
        channel.Dispose();
        await connection.CloseAsync();
        connection.Dispose();
    }
}
