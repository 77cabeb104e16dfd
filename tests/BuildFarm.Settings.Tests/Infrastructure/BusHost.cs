using BuildFarm.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BuildFarm.Settings.Tests.Infrastructure;

/// <summary>Another process of the farm on the same RabbitMQ virtual host, wired with ServiceDefaults' <c>AddFarmBus</c>.</summary>
public static class BusHost
{
    public static async Task<IHost> StartAsync(Uri rabbitMq, Action<IBusRegistrationConfigurator> configureBus, Action<IServiceCollection>? configureServices = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning).AddFilter("MassTransit", LogLevel.Error);
        builder.Configuration["ConnectionStrings:RabbitMq"] = rabbitMq.ToString();
        // The test plays every other part of the farm as guest, so nothing checks who sent a message (the end-to-end tests do).
        builder.Configuration["Bus:Senders:Check"] = "false";
        builder.AddFarmBus(configureBus);
        configureServices?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
