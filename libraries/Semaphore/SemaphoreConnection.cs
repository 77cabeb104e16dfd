using System.Globalization;
using StackExchange.Redis;

namespace BuildFarm.Semaphore;

/// <summary>
/// What both sides of the semaphore (<see cref="RedisFarmSemaphore"/> acquires, <see cref="RedisFarmSemaphoreAdmin"/>
/// administers) need to run its Lua scripts: the keys, the arguments every script takes first (channel, the epoch this
/// instance saw last, the reset grace; see Scripts/common.lua) and that epoch.
/// </summary>
internal sealed class SemaphoreConnection(IConnectionMultiplexer redis, FarmSemaphoreOptions options)
{
    private string _epoch = "";

    public IConnectionMultiplexer Redis { get; } = redis;

    public FarmSemaphoreOptions Options { get; } = options;

    public SemaphoreKeys Keys { get; } = new(options.KeyPrefix);

    public async Task<RedisResult> EvaluateAsync(SemaphoreScript script, params object[] args) =>
        (await RunAsync(script, args).ConfigureAwait(false)).Value;

    /// <summary>Runs a script; answers what it returned and the semaphore's epoch in Redis, which this instance remembers.</summary>
    public async Task<(RedisResult Value, string Epoch)> RunAsync(SemaphoreScript script, params object[] args)
    {
        var values = new RedisValue[args.Length + 3];
        values[0] = (string)Keys.Channel!;
        values[1] = Volatile.Read(ref _epoch);
        values[2] = Milliseconds(Options.LeaseTtl / 2); // the reset grace: see Scripts/common.lua
        for (var i = 0; i < args.Length; i++)
        {
            values[i + 3] = args[i] switch
            {
                string s => s,
                int n => n,
                long n => n,
                _ => throw new ArgumentException($"Unsupported script argument {args[i]}", nameof(args)),
            };
        }
        var reply = (RedisResult[])(await script.EvaluateAsync(Redis.GetDatabase(), Keys.All, values).ConfigureAwait(false))!;
        var epoch = (string)reply[0]!;
        Volatile.Write(ref _epoch, epoch);
        return (reply.Length > 1 ? reply[1] : RedisResult.Create(RedisValue.Null), epoch);
    }

    public static long ParseLong(RedisResult result) => ParseLong((string?)result);

    public static long ParseLong(string? text) =>
        (long)double.Parse(text ?? "0", NumberStyles.Float, CultureInfo.InvariantCulture);

    public static long Milliseconds(TimeSpan span) => (long)span.TotalMilliseconds;
}
