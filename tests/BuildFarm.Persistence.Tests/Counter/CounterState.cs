using MassTransit;

namespace BuildFarm.Persistence.Tests.Counter;

public sealed class CounterState : SagaStateMachineInstance, ISagaVersion
{
    public Guid CorrelationId { get; set; }
    public string CurrentState { get; set; } = "";
    public int Version { get; set; }
    public int Count { get; set; }
}
