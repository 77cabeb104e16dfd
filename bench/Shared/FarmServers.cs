using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BuildFarm.Testing;

namespace BuildFarm.Bench;

/// <summary>
/// A run's own PostgreSQL, Redis and RabbitMQ, started and stopped with the functions ./farm uses
/// (scripts/servers.sh), state in the run's folder, on free loopback ports below 32768 (RabbitMQ fails in the
/// ephemeral range): never the dev farm's or the test servers'. A stop keeps the data, as a real restart does.
/// Linked into ./farm chaos (bench/Chaos) and ./farm bench (bench/Farm).
/// </summary>
/// <param name="state">The folder the servers keep their files in.</param>
/// <param name="name">Names the RabbitMQ node (rabbit-NAME-RANDOM@localhost).</param>
/// <param name="fsync">PostgreSQL's fsync: off where durability on a slow disk is not what is measured.</param>
/// <param name="rabbitConfig">Extra lines for rabbitmq.conf (e.g. a shorter statistics interval).</param>
internal sealed class FarmServers(string state, string name, bool fsync, string rabbitConfig = "")
{
    public int PgPort { get; } = FreePort();
    public int RedisPort { get; } = FreePort();
    public int AmqpPort { get; } = FreePort();
    public int ManagementPort { get; } = FreePort();
    public int DistPort { get; } = FreePort();
    public string Node { get; } = $"rabbit-{name}-{Guid.NewGuid().ToString("N")[..8]}@localhost";

    public string Postgres(string database) => $"Host=127.0.0.1;Port={PgPort};Username=buildfarm;Database={database};Timeout=5;Command Timeout=30";
    public string Redis => $"127.0.0.1:{RedisPort}";
    public Uri RabbitMq => new($"amqp://guest:guest@127.0.0.1:{AmqpPort}/");
    public Uri Management => new($"http://guest:guest@127.0.0.1:{ManagementPort}/");

    public Task StartAllAsync() => Task.WhenAll(StartAsync("postgres"), StartAsync("redis"), StartAsync("rabbitmq"));

    public Task StopAllAsync() => Task.WhenAll(StopAsync("rabbitmq"), StopAsync("redis"), StopAsync("postgres"));

    /// <summary>postgres, redis or rabbitmq: started (on its old data when it ran before).</summary>
    public Task StartAsync(string server) => RunAsync(server switch
    {
        "postgres" => "postgres_start",
        "redis" => "redis_start",
        "rabbitmq" => "rabbit_start",
        _ => throw new ArgumentException(server),
    });

    /// <summary>postgres (pg_ctl -m fast), redis (SIGTERM, which writes its append-only file) or rabbitmq (rabbitmqctl stop).</summary>
    public Task StopAsync(string server) => RunAsync(server switch
    {
        "postgres" => "postgres_stop",
        "redis" => "redis_stop",
        "rabbitmq" => "rabbit_stop",
        _ => throw new ArgumentException(server),
    });

    private async Task RunAsync(string function)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($". \"{Path.Combine(Repository.Root, "scripts", "servers.sh")}\" && {function} \"$STATE\"");
        start.Environment["STATE"] = state;
        start.Environment["PG_PORT"] = PgPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["REDIS_PORT"] = RedisPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["AMQP_PORT"] = AmqpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["AMQP_MGMT_PORT"] = ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["AMQP_DIST_PORT"] = DistPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["RABBIT_NODE"] = Node;
        start.Environment["PG_FSYNC"] = fsync ? "on" : "off";
        start.Environment["RABBIT_CONF_EXTRA"] = rabbitConfig;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{function} failed ({process.ExitCode}): {await stderr}{await stdout}");
        }
    }

    /// <summary>A loopback port in 27000–31999 that nothing listens on (the test servers use 25xxx/26xxx).</summary>
    private static int FreePort() => LoopbackPorts.Free(27000, 32000);
}
