using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace BuildFarm.Semaphore;

/// <summary>
/// One of the semaphore's Lua scripts (Scripts/*.lua, each the body of a function after Scripts/common.lua, answering
/// {epoch, its own answer}), run with EVALSHA; after a Redis restart emptied the script cache it is sent once with
/// EVAL, which caches it again.
/// </summary>
internal sealed class SemaphoreScript
{
    private readonly string _text;
    private readonly byte[] _sha1;

    private SemaphoreScript(string name, string text)
    {
        Name = name;
        _text = text;
        _sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(text));
    }

    public string Name { get; }

    public static readonly SemaphoreScript Acquire = Load("acquire");
    public static readonly SemaphoreScript Heartbeat = Load("heartbeat");
    public static readonly SemaphoreScript Claim = Load("claim");
    public static readonly SemaphoreScript Renew = Load("renew");
    public static readonly SemaphoreScript Release = Load("release");
    public static readonly SemaphoreScript Leave = Load("leave");
    public static readonly SemaphoreScript SetLimit = Load("setlimit");
    public static readonly SemaphoreScript GetLimit = Load("getlimit");
    public static readonly SemaphoreScript List = Load("list");
    public static readonly SemaphoreScript ForceRelease = Load("forcerelease");
    public static readonly SemaphoreScript Clear = Load("clear");
    public static readonly SemaphoreScript Reclaim = Load("reclaim");

    public async Task<RedisResult> EvaluateAsync(IDatabaseAsync database, RedisKey[] keys, RedisValue[] values)
    {
        try
        {
            return await database.ScriptEvaluateAsync(_sha1, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await database.ScriptEvaluateAsync(_text, keys, values).ConfigureAwait(false);
        }
    }

    private static SemaphoreScript Load(string name) =>
        new(name, ReadResource("common") + "\nlocal function body()\n" + ReadResource(name) + "\nend\nreturn { EPOCH, body() }\n");

    private static string ReadResource(string name)
    {
        var resource = $"BuildFarm.Semaphore.Scripts.{name}.lua";
        using var stream = typeof(SemaphoreScript).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The script {resource} is not embedded.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
