using BuildFarm.ServiceDefaults.Auth;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BuildFarm.Settings.Tests;

public sealed class Configuring_authentication
{
    [Theory]
    [InlineData(null, "Auth:SigningKey is not set")]
    [InlineData("too-short-key", "Auth:SigningKey is 13 bytes; an HS256 key needs at least 32")]
    public async Task Refuses_to_start_without_a_long_enough_signing_key(string? key, string message)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Auth:SigningKey"] = key;
        builder.AddFarmAuthentication();
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Starts_with_a_key_of_32_bytes()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["Auth:SigningKey"] = new string('k', 32);
        builder.AddFarmAuthentication();
        using var host = builder.Build();

        await host.StartAsync();
        await host.StopAsync();

        Assert.Equal(FarmAuthOptions.DefaultIssuer, host.Services.GetRequiredService<IOptions<FarmAuthOptions>>().Value.Issuer);
    }
}
