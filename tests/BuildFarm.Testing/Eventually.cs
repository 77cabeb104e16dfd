using Xunit;

namespace BuildFarm.Testing;

/// <summary>Waiting for something that happens asynchronously, with a generous limit, failing the test with what it waited for.</summary>
public static class Eventually
{
    public static TimeSpan Patience { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Waits (up to 30 s) until the condition holds; fails the test naming <paramref name="what"/> otherwise.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }
            await Task.Delay(25);
        }
    }

    public static Task HoldsAsync(Func<bool> condition, string what) => HoldsAsync(() => Task.FromResult(condition()), what);

    /// <summary>Completes when <paramref name="token"/> fires; fails the test if it does not within 30 s.</summary>
    public static async Task FiresAsync(CancellationToken token)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = token.Register(() => fired.TrySetResult());
        await fired.Task.WaitAsync(Patience);
    }
}
