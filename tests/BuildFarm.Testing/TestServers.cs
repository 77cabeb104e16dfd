using System.Net.Http.Headers;
using System.Text;
using Npgsql;

namespace BuildFarm.Testing;

/// <summary>
/// The real servers the tests run against, started by <c>./farm test</c> and named by environment
/// variables. Each test class takes a database and a RabbitMQ virtual host of its own, so classes
/// that run in parallel never see each other's messages or rows.
/// </summary>
public static class TestServers
{
    public static string Postgres => Require("BUILDFARM_TEST_POSTGRES");
    public static string Redis => Require("BUILDFARM_TEST_REDIS");
    public static Uri RabbitMq => new(Require("BUILDFARM_TEST_RABBITMQ"));
    public static Uri RabbitMqManagement => new(Require("BUILDFARM_TEST_RABBITMQ_MANAGEMENT"));

    private static string Require(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{name} is not set: run the tests with ./farm test, which starts the servers they need.");

    /// <summary>A new, empty database; returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)].ToLowerInvariant();
        await using (var connection = new NpgsqlConnection(Postgres))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(Postgres) { Database = name }.ConnectionString;
    }

    /// <summary>A new RabbitMQ virtual host, guest allowed; returns the amqp URI that names it.</summary>
    public static async Task<Uri> CreateVirtualHostAsync(string prefix)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}";
        using var http = ManagementClient();
        (await http.PutAsync($"api/vhosts/{Uri.EscapeDataString(name)}", null)).EnsureSuccessStatusCode();
        var permissions = new StringContent("""{"configure":".*","write":".*","read":".*"}""", Encoding.UTF8, "application/json");
        (await http.PutAsync($"api/permissions/{Uri.EscapeDataString(name)}/guest", permissions)).EnsureSuccessStatusCode();
        var builder = new UriBuilder(RabbitMq) { Path = "/" + Uri.EscapeDataString(name) };
        return builder.Uri;
    }

    /// <summary>Removes a virtual host made by <see cref="CreateVirtualHostAsync"/>.</summary>
    public static async Task DeleteVirtualHostAsync(Uri amqp)
    {
        using var http = ManagementClient();
        await http.DeleteAsync($"api/vhosts/{Uri.EscapeDataString(Uri.UnescapeDataString(amqp.AbsolutePath.TrimStart('/')))}");
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>.</summary>
    public static async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    private static HttpClient ManagementClient()
    {
        var uri = RabbitMqManagement;
        var http = new HttpClient { BaseAddress = new Uri(uri.GetLeftPart(UriPartial.Authority) + "/") };
        var userInfo = string.IsNullOrEmpty(uri.UserInfo) ? "guest:guest" : Uri.UnescapeDataString(uri.UserInfo);
        http.DefaultRequestHeaders.Authorization =
            new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(userInfo)));
        return http;
    }
}
