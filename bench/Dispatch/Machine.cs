using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using System.Text.Json;
using BuildFarm.Testing;
using MassTransit;
using Npgsql;

namespace BuildFarm.Dispatch.Bench;

/// <summary>Facts about the machine and the servers, for the report.</summary>
internal static class Machine
{
    public static string Version(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "?";

    public static string MassTransitVersion => Version(typeof(IBus).Assembly);
    public static string NpgsqlVersion => Version(typeof(NpgsqlConnection).Assembly);

    public static async Task<string> PostgresVersionAsync()
    {
        await using var connection = new NpgsqlConnection(TestServers.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SHOW server_version", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    public static async Task<string> RabbitMqVersionAsync()
    {
        var uri = TestServers.RabbitMqManagement;
        using var http = new HttpClient { BaseAddress = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/") };
        var user = string.IsNullOrEmpty(uri.UserInfo) ? "guest:guest" : Uri.UnescapeDataString(uri.UserInfo);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user)));
        using var overview = JsonDocument.Parse(await http.GetStringAsync("api/overview"));
        return overview.RootElement.GetProperty("rabbitmq_version").GetString() ?? "?";
    }
}
