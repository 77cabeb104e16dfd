using MassTransit;
using Npgsql;

namespace BuildFarm.Persistence;

/// <summary>
/// Which failures a Postgres-backed endpoint retries: saga conflicts (<see cref="ConcurrencyException"/> and any
/// <see cref="SagaException"/>, which includes an event that arrived before its instance was committed when the state
/// machine says <c>OnMissingInstance(m =&gt; m.Fault())</c>), serialization failures (40001), deadlocks (40P01) and
/// unique violations (23505), also when wrapped in another exception.
/// </summary>
public static class PostgresRetry
{
    public static bool IsTransient(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case SagaException:
                case PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.UniqueViolation }:
                    return true;
            }
        }
        return exception is AggregateException aggregate && aggregate.InnerExceptions.Any(IsTransient);
    }

    /// <summary>Retries only <see cref="IsTransient"/> failures.</summary>
    public static IRetryConfigurator HandlePostgresConflicts(this IRetryConfigurator configurator)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        configurator.Handle<Exception>(IsTransient);
        return configurator;
    }

    /// <summary>
    /// The retry that must come BEFORE <c>UsePostgresOutbox</c> on an endpoint: each attempt is a new transaction.
    /// Exponential from 5 ms to 2 s with <paramref name="retryLimit"/> attempts, Postgres conflicts only.
    /// </summary>
    public static void UsePostgresConflictRetry(this IReceiveEndpointConfigurator configurator, int retryLimit = 20)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        configurator.UseMessageRetry(r => r
            .Exponential(retryLimit, TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(15))
            .HandlePostgresConflicts());
    }
}
