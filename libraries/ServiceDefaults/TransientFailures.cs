using MassTransit;

namespace BuildFarm.ServiceDefaults;

/// <summary>
/// Failures that pass by themselves (a database, Redis or bus peer that is away or did not answer in time), and the
/// retry every endpoint of the farm uses for them: a message that meets one stays in its queue, tried again with
/// backoff (1 s doubling to 30 s) until the server is back, instead of going to <c>_error</c> once an endpoint's own
/// short retries are spent. While every consumer of an endpoint is waiting so, the endpoint takes nothing new.
/// </summary>
public static class TransientFailures
{
    /// <summary>Tries before a message that keeps meeting transient failures is given up (about 83 hours at 30 s).</summary>
    public const int RetryLimit = 10_000;

    public static bool Is(Exception exception) => exception switch
    {
        Npgsql.NpgsqlException npgsql => npgsql.IsTransient,
        StackExchange.Redis.RedisConnectionException or StackExchange.Redis.RedisTimeoutException => true,
        RequestTimeoutException => true,
        TimeoutException => true,
        OperationCanceledException => false,
        _ => exception.InnerException is { } inner && Is(inner),
    };

    /// <summary>
    /// Adds the transient-failure retry to an endpoint. It must come first (outermost), before any filter that opens a
    /// database session, so that each try starts afresh; <c>AddFarmBus</c> adds it to every endpoint it configures.
    /// </summary>
    public static void UseTransientRetry(this IReceiveEndpointConfigurator endpoint) =>
        endpoint.UseMessageRetry(r =>
        {
            r.Handle<Exception>(Is);
            r.Exponential(RetryLimit, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2));
        });
}
