using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using BuildFarm.Testing;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace BuildFarm.Semaphore.Tests;

/// <summary>
/// A Redis of the test's own, started the way <c>./farm</c> starts one (scripts/servers.sh <c>redis_start</c>) on a
/// free loopback port with a temporary state folder, which the test kills with SIGKILL and starts again: with the
/// files it wrote (a restart) or without them (a Redis that lost its data). Never the shared test Redis.
/// </summary>
internal sealed class FarmRedis : IAsyncDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("buildfarm-redis-").FullName;
    private readonly List<(ConnectionMultiplexer Redis, RedisFarmSemaphore? Semaphore)> _instances = [];

    private FarmRedis(int port) => Port = port;

    public int Port { get; }

    public string Prefix { get; } = $"test:semaphore:{Guid.NewGuid():N}";

    public static async Task<FarmRedis> StartAsync()
    {
        var redis = new FarmRedis(LoopbackPorts.Free());
        await redis.StartServerAsync();
        return redis;
    }

    /// <summary>A semaphore instance (as one process would have) with a connection of its own that reconnects quickly.</summary>
    public async Task<RedisFarmSemaphore> AddInstanceAsync(Action<FarmSemaphoreOptions>? configure = null)
    {
        var (redis, options) = await ConnectAsync(configure);
        var semaphore = new RedisFarmSemaphore(redis, options);
        _instances.Add((redis, semaphore));
        return semaphore;
    }

    /// <summary>An administrator of the semaphore (as the Settings service has), with a connection of its own.</summary>
    public async Task<RedisFarmSemaphoreAdmin> AddAdminAsync(Action<FarmSemaphoreOptions>? configure = null)
    {
        var (redis, options) = await ConnectAsync(configure);
        _instances.Add((redis, null));
        return new RedisFarmSemaphoreAdmin(redis, options);
    }

    private async Task<(ConnectionMultiplexer Redis, IOptions<FarmSemaphoreOptions> Options)> ConnectAsync(Action<FarmSemaphoreOptions>? configure)
    {
        var configuration = new ConfigurationOptions
        {
            EndPoints = { { IPAddress.Loopback, Port } },
            AbortOnConnectFail = false,
            ReconnectRetryPolicy = new LinearRetry(200),
        };
        var redis = await ConnectionMultiplexer.ConnectAsync(configuration);
        var options = new FarmSemaphoreOptions { KeyPrefix = Prefix };
        configure?.Invoke(options);
        return (redis, Options.Create(options));
    }

    /// <summary>kill -9 of the server, then a start as ./farm does it; <paramref name="loseData"/> deletes its files first.</summary>
    public async Task KillAndStartAsync(bool loseData)
    {
        await KillAsync();
        await StartAgainAsync(loseData);
    }

    /// <summary>kill -9 of the server.</summary>
    public async Task KillAsync()
    {
        var pid = int.Parse((await File.ReadAllTextAsync(Path.Combine(_state, "redis", "redis.pid"))).Trim(), CultureInfo.InvariantCulture);
        using (var process = Process.GetProcessById(pid))
        {
            process.Kill();
            await process.WaitForExitAsync().WaitAsync(SemaphoreScope.Patience);
        }
    }

    /// <summary>Starts the killed server again as ./farm does it; <paramref name="loseData"/> deletes its files first.</summary>
    public async Task StartAgainAsync(bool loseData)
    {
        if (loseData)
        {
            foreach (var entry in new DirectoryInfo(Path.Combine(_state, "redis")).EnumerateFileSystemInfos())
            {
                if (entry.Name != "redis.log")
                {
                    if (entry is DirectoryInfo directory)
                    {
                        directory.Delete(recursive: true);
                    }
                    else
                    {
                        entry.Delete();
                    }
                }
            }
        }
        await StartServerAsync();
    }

    /// <summary>Runs <paramref name="action"/> until Redis answers it (its connection comes back after a restart).</summary>
    public static async Task<T> WhenReachableAsync<T>(Func<Task<T>> action)
    {
        using var giveUp = new CancellationTokenSource(SemaphoreScope.Patience);
        while (true)
        {
            try
            {
                return await action();
            }
            catch (Exception e) when (e is RedisException or TimeoutException && !giveUp.IsCancellationRequested)
            {
                await Task.Delay(50, giveUp.Token);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (redis, semaphore) in _instances)
        {
            if (semaphore is not null)
            {
                await semaphore.DisposeAsync();
            }
            await redis.DisposeAsync();
        }
        await RunAsync("redis_stop \"$1\"");
        Directory.Delete(_state, recursive: true);
    }

    private Task StartServerAsync() => RunAsync("redis_start \"$1\"");

    /// <summary>Runs a function of scripts/servers.sh with the state folder as $1 and REDIS_PORT set.</summary>
    private async Task RunAsync(string command)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-c", $"set -e; source \"{Path.Combine(Repository.Root, "scripts", "servers.sh")}\"; {command}", "bash", _state })
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["REDIS_PORT"] = Port.ToString(CultureInfo.InvariantCulture);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("bash did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(SemaphoreScope.Patience);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} failed ({process.ExitCode}): {await output}{await error}");
        }
    }
}
