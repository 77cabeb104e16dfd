using BuildFarm.Contracts;
using BuildFarm.Settings.Storage;
using MassTransit;

namespace BuildFarm.Settings.Consumers;

/// <summary>Answers <see cref="GetFarmSettings"/> with the stored settings (a <see cref="SettingsChanged"/>), for services that start.</summary>
public sealed class AnswerSettingsQueryConsumer(SettingsStore store) : IConsumer<GetFarmSettings>
{
    public async Task Consume(ConsumeContext<GetFarmSettings> context)
    {
        var current = await store.GetAsync(context.CancellationToken);
        await context.RespondAsync(current.ToMessage());
    }
}
