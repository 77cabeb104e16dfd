using Microsoft.Extensions.Options;

namespace BuildFarm.Submission.Logs;

/// <summary>The live log followers of each user in this process, at most <see cref="LogsOptions.MaxFollowersPerUser"/> each.</summary>
public sealed class LogFollowers(IOptions<LogsOptions> options)
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, int> counts = new(StringComparer.Ordinal);

    public int MaxPerUser => options.Value.MaxFollowersPerUser;

    /// <summary>A place for one more follower of <paramref name="user"/>, freed when disposed; null when the user has them all.</summary>
    public IDisposable? TryEnter(string user)
    {
        lock (gate)
        {
            var count = counts.GetValueOrDefault(user);
            if (count >= MaxPerUser)
            {
                return null;
            }
            counts[user] = count + 1;
        }
        return new Place(this, user);
    }

    /// <summary>The followers <paramref name="user"/> has open now.</summary>
    public int Count(string user)
    {
        lock (gate)
        {
            return counts.GetValueOrDefault(user);
        }
    }

    private void Leave(string user)
    {
        lock (gate)
        {
            if (counts[user] == 1)
            {
                counts.Remove(user);
            }
            else
            {
                counts[user]--;
            }
        }
    }

    private sealed class Place(LogFollowers followers, string user) : IDisposable
    {
        private int left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref left, 1) == 0)
            {
                followers.Leave(user);
            }
        }
    }
}
