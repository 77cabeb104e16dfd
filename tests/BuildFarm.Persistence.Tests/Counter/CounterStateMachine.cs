using MassTransit;

namespace BuildFarm.Persistence.Tests.Counter;

/// <summary>A small saga: started once, then counts increments; every change publishes an event.</summary>
public sealed class CounterStateMachine : MassTransitStateMachine<CounterState>
{
    public CounterStateMachine()
    {
        InstanceState(x => x.CurrentState);
        Event(() => Started, x => x.CorrelateById(m => m.Message.CounterId));
        Event(() => Incremented, x =>
        {
            x.CorrelateById(m => m.Message.CounterId);
            x.OnMissingInstance(m => m.Fault());
        });
        Event(() => Exploded, x => x.CorrelateById(m => m.Message.CounterId));

        Initially(
            When(Started)
                .TransitionTo(Counting)
                .Publish(context => new CounterStarted(context.Saga.CorrelationId)));

        During(Counting,
            Ignore(Started),
            When(Incremented)
                .Then(context => context.Saga.Count++)
                .ThenAsync(async context =>
                {
                    // Own SQL in the consume transaction, through the scope's PostgresSession.
                    var session = context.GetServiceOrCreateInstance<PostgresSession>();
                    await using var note = session.CreateCommand("INSERT INTO counter_note (counter_id, increment_id) VALUES ($1, $2)");
                    note.Parameters.Add(new Npgsql.NpgsqlParameter { Value = context.Saga.CorrelationId });
                    note.Parameters.Add(new Npgsql.NpgsqlParameter { Value = context.Message.IncrementId });
                    await note.ExecuteNonQueryAsync(context.CancellationToken);
                })
                .Publish(context => new CounterIncremented(context.Saga.CorrelationId, context.Message.IncrementId, context.Saga.Count)),
            When(Exploded)
                .Then(context => context.Saga.Count = -1000)
                .Publish(context => new CounterExploded(context.Saga.CorrelationId))
                .Then(_ => throw new InvalidOperationException("The counter exploded after publishing.")));
    }

    public State Counting { get; private set; } = null!;

    public Event<StartCounter> Started { get; private set; } = null!;

    public Event<Increment> Incremented { get; private set; } = null!;

    public Event<Explode> Exploded { get; private set; } = null!;
}
