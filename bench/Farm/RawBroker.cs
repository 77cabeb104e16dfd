using System.Diagnostics;
using BuildFarm.Testing;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace BuildFarm.Farm.Bench;

/// <summary>
/// Scenario 1, the reference: RabbitMQ.Client on the run's own broker, one durable queue, persistent 1 KB messages,
/// publisher confirms (each publish awaits its confirm; up to 200 in flight), one consumer acknowledging each message.
/// Messages per second from the first publish to the last delivery; round trip (publish to delivery, one message in
/// flight at a time) p50/p99.
/// </summary>
internal static class RawBroker
{
    public static async Task<Dictionary<string, double>> RunAsync(int messages, int roundTrips)
    {
        var vhost = await TestServers.CreateVirtualHostAsync("bench-raw");
        try
        {
            var factory = new ConnectionFactory { Uri = vhost };
            await using var publishing = await factory.CreateConnectionAsync("bench-raw-publisher");
            await using var consuming = await factory.CreateConnectionAsync("bench-raw-consumer");
            await using var publisher = await publishing.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
            await using var consumer = await consuming.CreateChannelAsync();
            const string queue = "bench-raw";
            await publisher.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
            await consumer.BasicQosAsync(0, 1000, false);

            var payload = new byte[1024];
            Random.Shared.NextBytes(payload);
            var properties = new BasicProperties { Persistent = true, ContentType = "application/octet-stream" };
            var received = 0;
            var expected = messages;
            var allReceived = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
            TaskCompletionSource<long>? roundTrip = null;

            var deliveries = new AsyncEventingBasicConsumer(consumer);
            deliveries.ReceivedAsync += async (_, delivery) =>
            {
                var at = Stopwatch.GetTimestamp();
                await consumer.BasicAckAsync(delivery.DeliveryTag, multiple: false);
                if (Volatile.Read(ref roundTrip) is { } waiting)
                {
                    waiting.TrySetResult(at);
                }
                else if (Interlocked.Increment(ref received) == expected)
                {
                    allReceived.TrySetResult(at);
                }
            };
            await consumer.BasicConsumeAsync(queue, autoAck: false, deliveries);

            // Throughput: a window of 200 publishes awaiting their confirms.
            using var window = new SemaphoreSlim(200);
            var started = Stopwatch.GetTimestamp();
            var publishes = new List<Task>(messages);
            for (var i = 0; i < messages; i++)
            {
                await window.WaitAsync();
                publishes.Add(PublishAsync());
            }
            await Task.WhenAll(publishes);
            var confirmed = Stopwatch.GetElapsedTime(started);
            var last = await allReceived.Task.WaitAsync(TimeSpan.FromMinutes(5));
            var elapsed = Stopwatch.GetElapsedTime(started, last);

            async Task PublishAsync()
            {
                try
                {
                    await publisher.BasicPublishAsync("", queue, mandatory: false, properties, payload);
                }
                finally
                {
                    window.Release();
                }
            }

            // Round trips: one message at a time, publish (with its confirm) to delivery.
            var times = new List<double>(roundTrips);
            for (var i = 0; i < roundTrips; i++)
            {
                var waiting = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                Volatile.Write(ref roundTrip, waiting);
                var sent = Stopwatch.GetTimestamp();
                await publisher.BasicPublishAsync("", queue, mandatory: false, properties, payload);
                var at = await waiting.Task.WaitAsync(TimeSpan.FromSeconds(30));
                times.Add(Stopwatch.GetElapsedTime(sent, at).TotalMilliseconds);
            }

            var figures = new Dictionary<string, double>
            {
                ["messagesPerSecond"] = Math.Round(messages / elapsed.TotalSeconds, 1),
                ["confirmedPerSecond"] = Math.Round(messages / confirmed.TotalSeconds, 1),
                ["messages"] = messages,
            };
            Percentiles.Add(figures, "roundTripMs", times);
            return figures;
        }
        finally
        {
            await TestServers.DeleteVirtualHostAsync(vhost);
        }
    }
}
