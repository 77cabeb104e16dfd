using StackExchange.Redis;

namespace BuildFarm.Semaphore;

/// <summary>
/// The Redis keys of one semaphore, all under the hash tag <c>{prefix}</c> so that a script's keys share a
/// cluster slot, in the order Scripts/common.lua expects them; and its pub/sub channel.
/// </summary>
internal sealed class SemaphoreKeys
{
    public SemaphoreKeys(string prefix)
    {
        var tag = "{" + prefix + "}:";
        All =
        [
            tag + "limit", tag + "holders", tag + "holder-info", tag + "waiters",
            tag + "waiter-expiry", tag + "waiter-info", tag + "sequence", tag + "fence", tag + "epoch", tag + "reset-grace",
        ];
        Channel = RedisChannel.Literal(prefix + ":events");
    }

    public RedisKey[] All { get; }

    public RedisChannel Channel { get; }
}
