using System.Net.Http.Headers;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using BuildFarm.Testing;
using MassTransit;
using Npgsql;

namespace BuildFarm.Dispatch.Bench;

/// <summary>Facts about the machine and the servers, for the report.</summary>
internal static class Machine
{
    /// <summary>The 1, 5 and 15 minute load averages.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    public static string Os()
    {
        const string file = "/etc/os-release";
        var pretty = File.Exists(file)
            ? File.ReadLines(file).FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?["PRETTY_NAME=".Length..].Trim('"')
            : null;
        return pretty ?? RuntimeInformation.OSDescription;
    }

    public static string Cpu()
    {
        const string file = "/proc/cpuinfo";
        var model = File.Exists(file)
            ? File.ReadLines(file).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        return $"{Environment.ProcessorCount} cores{(model is null ? "" : $" ({model})")}";
    }

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
