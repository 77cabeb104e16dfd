using System.Diagnostics;
using Xunit;

namespace BuildFarm.Testing;

/// <summary>
/// The tests' one way to wait for something that happens asynchronously: it looks again after 10 ms, then less and less
/// often (at most every 100 ms, so that a condition that queries a server does not load a busy machine), up to a generous
/// limit, and fails the test saying what it waited for and how long.
/// </summary>
public static class Eventually
{
    /// <summary>How long a wait lasts unless the caller says otherwise (a loaded 2-core machine needs the margin).</summary>
    public static TimeSpan Patience { get; } = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan FirstInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan LongestInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Waits until the condition holds; after <paramref name="within"/> (default <see cref="Patience"/>) fails the test with
    /// "Timed out after N s waiting until <paramref name="what"/>.", followed by <paramref name="details"/> when given.
    /// </summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null, Func<string>? details = null)
    {
        var limit = within ?? Patience;
        var waited = Stopwatch.StartNew();
        var interval = FirstInterval;
        while (!await condition())
        {
            if (waited.Elapsed > limit)
            {
                Assert.Fail(TimedOut(limit, what) + (details is null ? "" : "\n" + details()));
            }
            await Task.Delay(interval);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, LongestInterval.Ticks));
        }
    }

    public static Task HoldsAsync(Func<bool> condition, string what, TimeSpan? within = null, Func<string>? details = null) =>
        HoldsAsync(() => Task.FromResult(condition()), what, within, details);

    /// <summary>Completes when <paramref name="token"/> fires; fails the test if it does not within <paramref name="within"/> (default <see cref="Patience"/>).</summary>
    public static async Task FiresAsync(CancellationToken token, string what = "the token fired", TimeSpan? within = null)
    {
        var limit = within ?? Patience;
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var registration = token.Register(() => fired.TrySetResult());
        try
        {
            await fired.Task.WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            Assert.Fail(TimedOut(limit, what));
        }
    }

    private static string TimedOut(TimeSpan limit, string what) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Timed out after {limit.TotalSeconds:0.#} s waiting until {what}.");
}
