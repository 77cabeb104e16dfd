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
        await PutAsync(http, $"api/permissions/{Uri.EscapeDataString(name)}/guest", new { configure = ".*", write = ".*", read = ".*" });
        var builder = new UriBuilder(RabbitMq) { Path = "/" + Uri.EscapeDataString(name) };
        return builder.Uri;
    }

    /// <summary>
    /// Gives <paramref name="user"/> (a line of scripts/rabbitmq-permissions.tsv, as <c>./farm up</c> does; a Worker's
    /// user is worker-SERVER) its permissions on the virtual host <paramref name="amqp"/> names; returns the amqp URI
    /// that connects as that user. Users are global on the broker: each has one fixed test password.
    /// </summary>
    public static async Task<Uri> BusUserAsync(Uri amqp, string user, string? server = null)
    {
        var (configure, write, read) = BusPermissions(server is null ? user : "worker-{server}", server);
        var name = server is null ? user : "worker-" + server.ToLowerInvariant();
        var password = "test-" + name;
        var vhost = Uri.UnescapeDataString(amqp.AbsolutePath.TrimStart('/'));
        using var http = ManagementClient();
        // Users are global: when two fixtures create the same user at once on a fresh broker, RabbitMQ answers one of them
        // 400 ("the user already exists"). The user exists then, and the same PUT again updates it.
        using (var created = await PutRawAsync(http, $"api/users/{Uri.EscapeDataString(name)}", new { password, tags = "" }))
        {
            if (created.StatusCode == System.Net.HttpStatusCode.BadRequest)
            {
                await PutAsync(http, $"api/users/{Uri.EscapeDataString(name)}", new { password, tags = "" });
            }
            else
            {
                created.EnsureSuccessStatusCode();
            }
        }
        await PutAsync(http, $"api/permissions/{Uri.EscapeDataString(vhost)}/{Uri.EscapeDataString(name)}", new { configure, write, read });
        return new UriBuilder(amqp) { UserName = Uri.EscapeDataString(name), Password = Uri.EscapeDataString(password) }.Uri;
    }

    /// <summary>The configure, write and read expressions of one user in scripts/rabbitmq-permissions.tsv.</summary>
    public static (string Configure, string Write, string Read) BusPermissions(string user, string? server = null)
    {
        foreach (var line in File.ReadLines(Path.Combine(Repository.Root, "scripts", "rabbitmq-permissions.tsv")))
        {
            var fields = line.Split('\t');
            if (line.StartsWith('#') || fields.Length != 4 || fields[0] != user)
            {
                continue;
            }
            var escaped = System.Text.RegularExpressions.Regex.Escape(server?.ToLowerInvariant() ?? "");
            return (fields[1].Replace("{server}", escaped, StringComparison.Ordinal),
                fields[2].Replace("{server}", escaped, StringComparison.Ordinal),
                fields[3].Replace("{server}", escaped, StringComparison.Ordinal));
        }
        throw new InvalidOperationException($"scripts/rabbitmq-permissions.tsv has no user {user}");
    }

    /// <summary>Every queue of the virtual host <paramref name="amqp"/> names, with the messages it holds.</summary>
    public static async Task<IReadOnlyList<(string Name, long Messages)>> QueuesAsync(Uri amqp)
    {
        using var http = ManagementClient();
        var vhost = Uri.UnescapeDataString(amqp.AbsolutePath.TrimStart('/'));
        using var document = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"api/queues/{Uri.EscapeDataString(vhost)}"));
        return [.. document.RootElement.EnumerateArray().Select(q =>
            (q.GetProperty("name").GetString()!, q.TryGetProperty("messages", out var m) && m.ValueKind == System.Text.Json.JsonValueKind.Number ? m.GetInt64() : 0))];
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

    private static async Task PutAsync(HttpClient http, string path, object body)
    {
        using var response = await PutRawAsync(http, path, body);
        response.EnsureSuccessStatusCode();
    }

    private static Task<HttpResponseMessage> PutRawAsync(HttpClient http, string path, object body) =>
        http.PutAsync(path, new StringContent(System.Text.Json.JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"));

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
